/**
 * `{{field}}` templates: the user's fields in app profiles, and the replica's and store's
 * addresses in --app-cmd / --app-env / fault commands. Unknown fields are caught when the
 * profile or flag is read, not when the request is sent.
 */
const FIELD = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

/** A virtual user's fields, usable in a profile's login request and hit predicate. */
export const TEMPLATE_FIELDS = ['userId', 'userNm'] as const;

/** The fields a template uses, each once, in order. */
export function fieldsOf(template: string): string[] {
  return [...new Set([...template.matchAll(FIELD)].map((match) => match[1]!))];
}

/** Why a template is not valid with these fields, or undefined. */
export function templateProblem(template: string, allowed: readonly string[]): string | undefined {
  const unknown = [...template.matchAll(FIELD)].map((match) => match[1]!).filter((field) => !allowed.includes(field));
  if (unknown.length === 0) return undefined;
  const fields = [...new Set(unknown)].map((field) => `{{${field}}}`).join(', ');
  return allowed.length === 0 ? `${fields}: this request is the same for every user and takes no fields` : `unknown field ${fields}; expected ${allowed.map((field) => `{{${field}}}`).join(', ')}`;
}

export function renderTemplate(template: string, values: object, escape?: (text: string) => string): string {
  return compileTemplate(template)(values, escape);
}

export type CompiledTemplate = (values: object, escape?: (text: string) => string) => string;

/**
 * A template split once into its text and fields, for templates filled on every request (a hit
 * predicate's expected values). A field the values lack stays as written.
 */
export function compileTemplate(template: string): CompiledTemplate {
  const texts: string[] = [];
  const fields: { name: string; written: string }[] = [];
  let from = 0;
  for (const match of template.matchAll(FIELD)) {
    texts.push(template.slice(from, match.index));
    fields.push({ name: match[1]!, written: match[0] });
    from = match.index + match[0].length;
  }
  if (fields.length === 0) return () => template;
  texts.push(template.slice(from));
  return (values, escape) => {
    let text = texts[0]!;
    for (let i = 0; i < fields.length; i++) {
      const value = (values as Record<string, unknown>)[fields[i]!.name];
      text += (value === undefined ? fields[i]!.written : escape ? escape(String(value)) : String(value)) + texts[i + 1]!;
    }
    return text;
  };
}

/** Every `{{field}}` replaced by what `replace` makes of its name. */
export function replaceFields(template: string, replace: (field: string) => string): string {
  return template.replace(FIELD, (_whole, field: string) => replace(field));
}
