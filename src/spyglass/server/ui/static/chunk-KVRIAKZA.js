var e="spyglass.explore.localTime";function t(){try{return window.localStorage.getItem(e)==="false"}catch{return!1}}export{e as a,t as b};
