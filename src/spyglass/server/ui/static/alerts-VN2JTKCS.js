import{a as o,b as r}from"./chunk-AX2EOQNQ.js";import"./chunk-4PEEJNFA.js";import"./chunk-LCID72IK.js";import"./chunk-DC7S76ZX.js";r();o(document.querySelector("form.filters"));
