// Go's strconv.ParseBool, which upstream uses for every boolean flag and SecretProviderClass
// parameter (usePodIdentity, useVMManagedIdentity, ...). Anything else is a syntax error.
const TRUE_TEXTS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_TEXTS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Returns the boolean, or undefined when `text` is not one of Go's accepted spellings. */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE_TEXTS.has(text)) return true;
  if (FALSE_TEXTS.has(text)) return false;
  return undefined;
}

/** The error text Go prints for a bad boolean: `strconv.ParseBool: parsing "tru": invalid syntax`. */
export function goParseBoolError(text: string): string {
  return `strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`;
}
