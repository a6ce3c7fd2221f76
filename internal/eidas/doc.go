// Package eidas parses and validates PSD2 certificates (QWACs and QSealCs
// with the ETSI TS 119 495 QC statement) and runs the sandbox's qualified
// trust service provider (QTSP).
//
// Parsing needs no network: Parse reads the qcStatements extension
// (RFC 3739: QcCompliance, QcType and the PSD2 statement with roles and NCA)
// and the subject's organizationIdentifier ("PSDPL-KNF-..."), and checks that
// they agree. Verifier adds the checks that need trust anchors and a clock:
// chain, validity window, key usage, the kind of certificate (QcType web for
// a QWAC, eseal for a QSealC) and revocation through a RevocationChecker
// (OCSPChecker, CRLChecker, ChainChecker, or the QTSP itself in process).
//
// Every refusal is an *Error whose Reason is a stable code and whose text is
// a sentence a TPP developer can act on.
//
// The sandbox QTSP (LoadOrCreateQTSP) issues test QWACs and QSealCs and keeps
// a revocation list; everything it issues is marked as sandbox-only (see
// IsSandbox) so that production can refuse it even if its root is trusted by
// mistake. TLSCA issues the bank's own TLS server certificate in the sandbox.
//
// Nothing in the package reads the wall clock: times come from parameters or
// from Clock fields.
package eidas
