/**
 * An HTTP token (RFC 9110 section 5.6.2): what header names are made of, and cookie names too
 * (RFC 6265 section 4.1.1).
 */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The same, in words for messages. */
export const HTTP_TOKEN_CHARS = "letters, digits and !#$%&'*+-.^_`|~";
