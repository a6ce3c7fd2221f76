package server

import "crypto/tls"

// hardenTLS returns a copy of cfg that speaks TLS 1.2 and 1.3 only, and in
// TLS 1.2 only AEAD suites with forward secrecy: no CBC, no SHA-1 MACs, no
// RSA key exchange. (TLS 1.3's suites are all AEAD and not configurable.)
func hardenTLS(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		return nil
	}
	c := cfg.Clone()
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	c.CipherSuites = TLS12Suites
	return c
}

// TLS12Suites are the TLS 1.2 cipher suites the bank offers.
var TLS12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}
