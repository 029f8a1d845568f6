/*
 * File structure of a qrexec policy file (new format and the old service-less format alike).
 *
 * The grammar is deliberately line-oriented and keyword-free: a line is a run of WORDs, and the
 * meaning of a word (service, argument, qube token, action, parameter, directive) is decided by
 * its position, in Java. A qube may legitimately be called "allow" or "#x", so nothing here may
 * lex such words differently.
 *
 * Separators are exactly the code points for which Python's str.isspace() is true, because the
 * reference engine tokenises with str.split(). Line breaks are those of Python's universal
 * newline mode (how the reference iterates a text file): CR LF, CR and LF. The other code points
 * that str.splitlines() would break on (VT, FF, FS, GS, RS, NEL, LS, PS) stay inside a line, where
 * they are ordinary separators. dev.qrexec.policy.load.PythonWhitespace holds the same set; a
 * test checks every code point against both.
 */
grammar QrexecPolicy;

policyFile : line (NEWLINE line)* EOF ;

line : WORD* ;

NEWLINE : '\r\n' | '\r' | '\n' ;

SEPARATOR
    : [\t\u000B\u000C \u001C-\u001F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+
      -> skip
    ;

WORD
    : ~[\t\n\u000B\u000C\r \u001C-\u001F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+
    ;
