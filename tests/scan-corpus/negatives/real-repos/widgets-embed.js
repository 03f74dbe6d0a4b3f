/*! fixture: held-out 26 (a minified widget bundle committed as a resource) */
!function(e){switch(e.type){case"text":return e.value;case"password":return!0;default:return null}}(window);
