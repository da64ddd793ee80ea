import{a as o,b as r}from"./chunk-3QWX6DSX.js";import"./chunk-KF7AFNXM.js";import"./chunk-DC7S76ZX.js";r();o(document.querySelector("form.filters"));
