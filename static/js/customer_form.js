/* The customer form: organisation fields for organisations, guardian fields for
   individuals. Loaded as a file (strict CSP: no inline script); the form names the
   organisation-only fields in its data-organisation-fields attribute (a JSON list). */
(function () {
  "use strict";
  const kind = document.getElementById("id_kind");
  const form = kind ? kind.closest("form[data-organisation-fields]") : null;
  if (!form) return;
  const organisationOnly = JSON.parse(form.dataset.organisationFields || "[]");
  const individualOnly = ["birth_date", "guardian_name", "guardian_phone", "guardian_consent"];
  function show(names, visible) {
    names.forEach(function (name) {
      const field = document.getElementById("id_" + name);
      const column = field ? field.closest("[class^='col']") : null;
      if (column) column.hidden = !visible;
    });
  }
  function toggle() {
    const organisation = kind.value === "organisation";
    show(organisationOnly, organisation);
    show(individualOnly, !organisation);
  }
  kind.addEventListener("change", toggle);
  toggle();
})();
