// Package jws signs and verifies detached JSON Web Signatures (RFC 7515
// compact serialization with a detached payload, Appendix F) and builds the
// message each API dialect signs.
//
// The JWS code is written over the standard library rather than go-jose,
// because the checks are the product: alg is allow-listed (RS256, PS256,
// ES256), crit may name only b64 (RFC 7797), the header JSON may not repeat
// a member, keys come only from certificates (jwk and jku are refused), x5c
// is standard base64 DER and x5t#S256 must agree with it, and the key must
// fit alg (RSA of at least 2048 bits, or P-256 with a 64-byte R||S
// signature). Every refusal is an *Error whose Reason is a stable code and
// whose text is a sentence a TPP developer can act on.
//
// This package does not choose the certificate: the caller validates the
// x5c chain (package eidas) or looks up a registered QSealC by x5t#S256 or
// kid, then calls VerifyDetached, which checks that the header designates
// that very certificate.
//
// # PolishAPI
//
// X-JWS-SIGNATURE on requests and responses is the detached JWS of the raw
// body: the signed message is the exact body bytes, buffered before any
// JSON decoding and never re-serialized.
//
//	h, err := jws.VerifyDetached(r.Header.Get("X-JWS-SIGNATURE"), rawBody, qsealc)
//	sig, err := signer.SignDetached(responseBody) // response X-JWS-SIGNATURE
//
// # mBank
//
// JWS-Signature signs a JSON wrapper of the request, which MBankPayload
// rebuilds byte for byte:
//
//	msg := jws.MBankPayload(jws.MBankRequestURI(r), r.Header, rawBody)
//	h, err := jws.VerifyDetached(r.Header.Get("JWS-Signature"), msg, qsealc)
//
// What the wrapper is was read from mBank's Postman material
// (melements/mBank-PSD2-api-postman-collection, v3). The collection's
// pre-request scripts call calculateDetachedJwsSignature(..., request),
// defined in the environment variable jwsInternalScript of
// v3/bank-simulator-pl-corpo-sandbox.postman_environment.json:
//
//	const uriPath = request.url.replace("{{xs2aUri}}", "");
//	const sortedHeaders = Object.keys(request.headers).sort(...)
//	    .reduce(... if (allowedHeadersList.includes(obj.key)) map[obj.key] = obj.value ...);
//	if ((request.data && request.data.length)) { requestData = request.data; }
//	let payload = {"uri": uriPath, "headers": sortedHeaders, "body": requestData};
//	return KJUR.jws.JWS.sign(header.alg, JSON.stringify(header), JSON.stringify(payload, replacer), privateKey);
//
// and keeps header..signature (jwsDetachedPayload = "true"). Hence:
//
//   - uri: request.url is Postman's legacy request URL, the unresolved
//     template (postman-sandbox lib/sandbox/postman-legacy-interface.js:
//     url: execution.request.url.toString()). The collection's URLs are
//     {{xs2aUri}}/{{bankId}}/v3/... with the query inline (for example
//     .../transactions?transactionStatus=DONE), and xs2aUri is scheme and
//     host only (https://sandbox.api.mbank.pl). So uri is the path WITH the
//     bank id prefix (/pl-retail/v3/accounts) plus "?" and the query when
//     there is one; the replacer then substitutes the {{variables}}. Tink's
//     mBank client agrees (PolishApiSignatureFilter.getUri: path, then
//     "?" + query if not blank). A proxy that strips /{bankId} must give
//     the original target back to MBankRequestURI's caller.
//   - headers: the legacy request.headers object has lower-cased names and
//     turns a repeated header into an array (headers.toObject(true, false,
//     true, true) in the same file). Names are sorted with JavaScript's
//     default order and filtered by jwsAllowedHeaders (MBankSignedHeaders);
//     Accept*, Content-Type and JWS-Signature itself are not signed.
//   - body: the raw body string, or "" when there is none (request.data is
//     {} for GET and for the empty raw bodies of the DELETE requests).
//   - encoding: JSON.stringify, no whitespace; jsrsasign's sign() then
//     base64url-encodes the UTF-8 of the header and of that string
//     (utf8tob64u), i.e. an ordinary b64 JWS, RS256, header
//     {"alg":"RS256","typ":"JWT","x5u":...,"x5t#S256":...}.
//
// The tests hold vectors made by running that script verbatim under node 20
// with the collection's own requests.
//
// # Limits
//
// The mBank uri is what the TPP's tool had before percent-encoding; for
// targets that needed encoding (spaces, non-ASCII, quotes) the request
// line differs from what was signed, and such requests will not verify.
// A Postman "auth" helper adds Authorization after the script has run, so
// the script does not sign it, while the bank sees it; the collection sets
// Authorization as a plain header, which is signed.
package jws
