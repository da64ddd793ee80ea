"""Spyglass' own text of Alertmanager's default notification templates.

Receivers refer to these names (``{{ template "slack.default.title" . }}``), so a set always
defines them. Each gives, for the same data, the same text as Alertmanager's default of that
name, and calls the same other names (``__subject``, ``__text_alert_list``...), so a user file
that redefines one of those changes every template that uses it, as in Alertmanager. The helpers
named ``__spyglass.*`` are ours.

One deliberate difference: ``email.default.html`` is our own HTML page (subject, a link to the
alerts, each alert's labels, annotations and source, firing before resolved), not Alertmanager's
inlined-CSS email. Like Alertmanager's it relies on the html/template escaping an email's
``html`` field is rendered with (``TemplateSet.render(..., html=True)``) to escape its data.
"""

DEFAULT_TEMPLATES = r"""
{{ define "__alertmanager" }}Alertmanager{{ end }}
{{ define "__alertmanagerURL" -}}
{{ .ExternalURL }}/#/alerts?receiver={{ urlquery .Receiver }}
{{- end }}

{{- /* [FIRING:2] group label values (other common label values) */ -}}
{{ define "__subject" -}}
[{{ toUpper .Status }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}]
{{- printf " %s " (join " " .GroupLabels.Values) }}
{{- if gt (len .CommonLabels) (len .GroupLabels) -}}
  ({{ join " " (.CommonLabels.Remove .GroupLabels.Names).Values }})
{{- end }}
{{- end }}
{{ define "__description" }}{{ end }}

{{- /* One alert as plain text, then as Markdown. */ -}}
{{ define "__spyglass.text_alert" -}}
Labels:
{{ range .Labels.SortedPairs }}{{ printf " - %s = %s\n" .Name .Value }}{{ end -}}
Annotations:
{{ range .Annotations.SortedPairs }}{{ printf " - %s = %s\n" .Name .Value }}{{ end -}}
Source: {{ .GeneratorURL }}
{{ end }}
{{ define "__text_alert_list" -}}
{{ range . }}{{ template "__spyglass.text_alert" . }}{{ end }}
{{- end }}

{{ define "__spyglass.markdown_alert" }}
Labels:
{{ range .Labels.SortedPairs }}{{ printf "  - %s = %s\n" .Name .Value }}{{ end }}
Annotations:
{{ range .Annotations.SortedPairs }}{{ printf "  - %s = %s\n" .Name .Value }}{{ end }}
Source: {{ .GeneratorURL }}
{{ end }}
{{ define "__text_alert_list_markdown" -}}
{{ range . }}{{ template "__spyglass.markdown_alert" . }}{{ end }}
{{ end }}

{{- /* The firing, then the resolved alerts, in the three layouts the receivers use. */ -}}
{{ define "__spyglass.alerts_by_status" -}}
{{ with .Alerts.Firing }}Alerts Firing:
{{ template "__text_alert_list" . }}{{ end }}
{{ with .Alerts.Resolved }}Alerts Resolved:
{{ template "__text_alert_list" . }}{{ end }}
{{- end }}
{{ define "__spyglass.alerts_by_status_spaced" -}}
{{ with .Alerts.Firing }}
Alerts Firing:
{{ template "__text_alert_list" . }}
{{ end }}
{{ with .Alerts.Resolved }}
Alerts Resolved:
{{ template "__text_alert_list" . }}
{{ end }}
{{- end }}
{{ define "__spyglass.alerts_by_status_markdown" -}}
{{ with .Alerts.Firing }}
# Alerts Firing:
{{ template "__text_alert_list_markdown" . }}
{{ end }}
{{ with .Alerts.Resolved }}
# Alerts Resolved:
{{ template "__text_alert_list_markdown" . }}
{{ end }}
{{- end }}
{{ define "__spyglass.annotations_and_alerts" }}{{ join " " .CommonAnnotations.Values }}
{{ template "__spyglass.alerts_by_status" . }}{{ end }}
{{ define "__spyglass.annotations_and_alerts_spaced" }}{{ join " " .CommonAnnotations.Values }}
{{ template "__spyglass.alerts_by_status_spaced" . }}
{{ end }}
{{ define "__spyglass.alerts_spaced" }}
{{ template "__spyglass.alerts_by_status_spaced" . }}
{{ end }}
{{ define "__spyglass.alerts_markdown" }}
{{ template "__spyglass.alerts_by_status_markdown" . }}
{{ end }}
{{ define "__spyglass.color" }}{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}{{ end }}

{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" -}}
{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}
{{- end }}
{{ define "slack.default.callbackid" }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}
{{ define "slack.default.text" }}{{ end }}
{{ define "slack.default.footer" }}{{ end }}
{{ define "slack.default.color" }}{{ template "__spyglass.color" . }}{{ end }}

{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}

{{ define "opsgenie.default.message" }}{{ template "__subject" . }}{{ end }}
{{ define "opsgenie.default.description" -}}
{{ template "__spyglass.annotations_and_alerts" . }}
{{- end }}
{{ define "opsgenie.default.source" }}{{ template "__alertmanagerURL" . }}{{ end }}

{{ define "wechat.default.message" }}{{ template "__subject" . }}
{{ template "__spyglass.annotations_and_alerts" . }}
AlertmanagerUrl:
{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "wechat.default.to_user" }}{{ end }}
{{ define "wechat.default.to_party" }}{{ end }}
{{ define "wechat.default.to_tag" }}{{ end }}
{{ define "wechat.default.agent_id" }}{{ end }}

{{ define "victorops.default.state_message" -}}
{{ template "__spyglass.annotations_and_alerts" . }}
{{- end }}
{{ define "victorops.default.entity_display_name" }}{{ template "__subject" . }}{{ end }}
{{ define "victorops.default.monitoring_tool" }}{{ template "__alertmanager" . }}{{ end }}

{{ define "pushover.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "pushover.default.message" -}}
{{ template "__spyglass.annotations_and_alerts_spaced" . }}
{{- end }}
{{ define "pushover.default.url" }}{{ template "__alertmanagerURL" . }}{{ end }}

{{ define "sns.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "sns.default.message" -}}
{{ template "__spyglass.annotations_and_alerts_spaced" . }}
{{- end }}

{{ define "telegram.default.message" }}{{ template "__spyglass.alerts_spaced" . }}{{ end }}

{{ define "discord.default.content" }}{{ end }}
{{ define "discord.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "discord.default.message" }}{{ template "__spyglass.alerts_spaced" . }}{{ end }}

{{ define "webex.default.message" -}}
{{ template "__spyglass.annotations_and_alerts_spaced" . }}
{{- end }}

{{ define "msteams.default.summary" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.text" }}{{ template "__spyglass.alerts_markdown" . }}{{ end }}

{{ define "msteamsv2.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "msteamsv2.default.text" }}{{ template "__spyglass.alerts_markdown" . }}{{ end }}

{{ define "jira.default.summary" }}{{ template "__subject" . }}{{ end }}
{{ define "jira.default.description" }}{{ template "__spyglass.alerts_markdown" . }}{{ end }}
{{- /* Highest severity among the firing alerts, else among the resolved ones. */ -}}
{{ define "__spyglass.priority" -}}
{{ $high := false }}{{ $medium := false }}{{ $low := false -}}
{{ range . }}{{ $s := index .Labels "severity" -}}
  {{ if eq $s "critical" }}{{ $high = true }}{{ else if eq $s "warning" }}{{ $medium = true -}}
  {{ else if eq $s "info" }}{{ $low = true }}{{ end -}}
{{ end -}}
{{ if $high }}High{{ else if $medium }}Medium{{ else if $low }}Low{{ end -}}
{{ end }}
{{ define "jira.default.priority" -}}
{{ $firing := .Alerts.Firing -}}
{{ $rated := false }}{{ range $firing }}{{ $s := index .Labels "severity" -}}
  {{ if or (eq $s "critical") (eq $s "warning") (eq $s "info") }}{{ $rated = true }}{{ end -}}
{{ end -}}
{{ if $rated }}{{ template "__spyglass.priority" $firing -}}
{{ else }}{{ template "__spyglass.priority" .Alerts.Resolved }}{{ end -}}
{{ end }}

{{ define "rocketchat.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "rocketchat.default.alias" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "rocketchat.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "rocketchat.default.emoji" }}{{ end }}
{{ define "rocketchat.default.iconurl" }}{{ end }}
{{ define "rocketchat.default.text" }}{{ end }}

{{ define "mattermost.default.color" }}{{ template "__spyglass.color" . }}{{ end }}
{{ define "mattermost.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "mattermost.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "mattermost.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "mattermost.default.fallback" -}}
{{ template "mattermost.default.title" . }} | {{ template "mattermost.default.titlelink" . }}
{{- end }}
{{ define "mattermost.default.text" }}{{ template "__spyglass.alerts_markdown" . }}{{ end }}

{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "__spyglass.email_alert" -}}
<tr><td style="padding:12px 16px;border-top:1px solid #e4e6eb">
<p style="margin:0 0 6px"><strong>Labels</strong><br>
{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>
{{ end }}</p>
{{ with .Annotations }}<p style="margin:0 0 6px"><strong>Annotations</strong><br>
{{ range .SortedPairs }}{{ .Name }} = {{ .Value }}<br>
{{ end }}</p>
{{ end }}<p style="margin:0"><a href="{{ .GeneratorURL }}" style="color:#2f6fdb">Source</a></p>
</td></tr>
{{ end }}
{{ define "email.default.html" -}}
<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width">
<title>{{ template "__subject" . }}</title>
</head>
<body style="margin:0;padding:24px;background:#f4f5f7;
 font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#1f2328">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"
 style="max-width:640px;margin:0 auto;background:#fff;border:1px solid #e4e6eb">
<tr><td style="padding:16px;color:#fff;font-size:16px;
 background:{{ if .Alerts.Firing }}#d43f3a{{ else }}#3c9a55{{ end }}">
{{ len .Alerts }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for
{{- range .GroupLabels.SortedPairs }} {{ .Name }}={{ .Value }}{{ end }}
</td></tr>
<tr><td style="padding:16px">
<a href="{{ .ExternalURL }}/#/alerts?receiver={{ urlquery .Receiver }}"
 style="display:inline-block;padding:8px 16px;background:#2f6fdb;color:#fff;
 text-decoration:none">
View in {{ template "__alertmanager" . }}</a>
</td></tr>
{{ with .Alerts.Firing -}}
<tr><td style="padding:8px 16px"><strong>[{{ len . }}] Firing</strong></td></tr>
{{ range . }}{{ template "__spyglass.email_alert" . }}{{ end }}
{{- end }}
{{- with .Alerts.Resolved -}}
<tr><td style="padding:8px 16px"><strong>[{{ len . }}] Resolved</strong></td></tr>
{{ range . }}{{ template "__spyglass.email_alert" . }}{{ end }}
{{- end -}}
<tr><td style="padding:16px;color:#6b7280;font-size:12px;text-align:center">
<a href="{{ .ExternalURL }}" style="color:#6b7280">
Sent by {{ template "__alertmanager" . }}</a>
</td></tr>
</table>
</body>
</html>
{{ end }}
"""
