// What both public pages do with a form: show each error beside the field
// whose JSON pointer it names (`data-pointer`), or at the top of the form.

/** Clears old errors, then shows `errors` (`{ pointer, text }`); focuses the first field in error. */
export function showErrors(form, errors) {
  for (const slot of form.querySelectorAll(".error")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  let first = null;
  for (const error of errors) {
    const field = form.querySelector(`[data-pointer="${CSS.escape(error.pointer)}"]`);
    // A field's error slot is `<id>-error`; an error of no field goes on top.
    const slot = field
      ? document.getElementById(`${field.id}-error`)
      : form.querySelector(".form-error");
    if (field) {
      field.setAttribute("aria-invalid", "true");
      first ??= field;
    }
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}；${error.text}` : error.text;
      slot.hidden = false;
    }
  }
  first?.focus();
}

/** A trimmed text field's value, or undefined when empty. */
export function text(form, name) {
  const value = form.elements[name]?.value.trim();
  return value ? value : undefined;
}
