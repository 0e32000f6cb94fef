// Package mask hides secrets in what flowrun writes: a Masker replaces the
// values of secret inputs, and the forms a program derives from them, with
// "***", and redacts credentials in URLs (the password of userinfo, and
// query or fragment parameters named like a credential: token, api_key,
// signature, ...). A Key makes keyed hashes of secret values, so that a
// record can tell whether two runs had the same secret without holding it.
//
// It depends on the standard library only, so that a step type may use it
// too (the http step redacts the URLs of its errors with URL).
package mask
