// Package mask hides secrets in what flowrun writes: a Masker replaces the
// values of secret inputs, and the forms a program derives from them, with
// "***", and redacts credentials in URLs (the password of userinfo, and
// query or fragment parameters named like a credential: token, api_key,
// signature, ...). A Key makes keyed hashes of secret values, so that a
// record can tell whether two runs had the same secret without holding it.
//
// Text is masked before anything cuts or reshapes it: a secret cut in two,
// or a URL's credentials cut off from the URL, would no longer be
// recognised. Masker.Head and Masker.Split cut after masking, and
// Masker.String masks secrets before it redacts URLs.
//
// It depends on the standard library only, so that a step type may use it
// too: the http step masks its errors with the run's Masker
// (steps.Input.Mask).
package mask
