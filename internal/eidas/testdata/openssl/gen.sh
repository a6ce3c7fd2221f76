#!/bin/sh
# Regenerates the OpenSSL-made PSD2 test certificates used by
# TestOpenSSLCertificates. The private keys are thrown away.
#   ca.pem     a test root CA
#   qwac.pem   QWAC, roles PSP_AI+PSP_PI, organizationIdentifier as UTF8String (string_mask utf8only)
#   qseal.pem  QSealC, role PSP_AI, organizationIdentifier as PrintableString (string_mask default)
# Valid for 100 years from when they were made.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/ext.cnf" <<'CNF'
[ ca_ext ]
basicConstraints     = critical,CA:TRUE
keyUsage             = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[ qwac_ext ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth,clientAuth
subjectAltName         = DNS:tpp.example.pl
authorityKeyIdentifier = keyid
certificatePolicies    = 0.4.0.194112.1.4,0.4.0.19495.3.1
1.3.6.1.5.5.7.1.3      = ASN1:SEQUENCE:qcs_web

[ qseal_ext ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,nonRepudiation,digitalSignature
authorityKeyIdentifier = keyid
1.3.6.1.5.5.7.1.3      = ASN1:SEQUENCE:qcs_seal

[ qcs_web ]
c1 = SEQUENCE:qcCompliance
c2 = SEQUENCE:qcType_web
c3 = SEQUENCE:psd2_web

[ qcs_seal ]
c1 = SEQUENCE:qcCompliance
c2 = SEQUENCE:qcType_seal
c3 = SEQUENCE:psd2_seal

[ qcCompliance ]
id = OID:0.4.0.1862.1.1

[ qcType_web ]
id = OID:0.4.0.1862.1.6
t  = SEQUENCE:qct_web

[ qct_web ]
web = OID:0.4.0.1862.1.6.3

[ qcType_seal ]
id = OID:0.4.0.1862.1.6
t  = SEQUENCE:qct_seal

[ qct_seal ]
seal = OID:0.4.0.1862.1.6.2

[ psd2_web ]
id   = OID:0.4.0.19495.2
info = SEQUENCE:psd2QcType_web

[ psd2QcType_web ]
roles   = SEQUENCE:roles_web
ncaName = UTF8:Polish Financial Supervision Authority
ncaId   = UTF8:PL-PFSA

[ roles_web ]
r1 = SEQUENCE:role_ai
r2 = SEQUENCE:role_pi

[ psd2_seal ]
id   = OID:0.4.0.19495.2
info = SEQUENCE:psd2QcType_seal

[ psd2QcType_seal ]
roles   = SEQUENCE:roles_seal
ncaName = UTF8:Polish Financial Supervision Authority
ncaId   = UTF8:PL-PFSA

[ roles_seal ]
r1 = SEQUENCE:role_ai

[ role_ai ]
oid  = OID:0.4.0.19495.1.3
name = UTF8:PSP_AI

[ role_pi ]
oid  = OID:0.4.0.19495.1.2
name = UTF8:PSP_PI
CNF

cat > "$tmp/req-utf8.cnf" <<'CNF'
[ req ]
distinguished_name = dn
string_mask        = utf8only
prompt             = no
[ dn ]
C = PL
O = Example TPP sp. z o.o.
organizationIdentifier = PSDPL-PFSA-IP12/2019
CN = tpp.example.pl
CNF

cat > "$tmp/req-printable.cnf" <<'CNF'
[ req ]
distinguished_name = dn
string_mask        = default
prompt             = no
[ dn ]
C = PL
O = Example TPP sp. z o.o.
organizationIdentifier = PSDPL-PFSA-IP12/2019
CN = Example TPP seal
CNF

openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key"
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/qwac.key"
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/qseal.key"

openssl req -new -key "$tmp/ca.key" -config "$tmp/req-utf8.cnf" \
	-subj "/C=PL/O=OpenSSL Test QTSP/CN=OpenSSL Test QTSP Root" -out "$tmp/ca.csr"
openssl x509 -req -in "$tmp/ca.csr" -signkey "$tmp/ca.key" -days 36500 \
	-set_serial 1 -extfile "$tmp/ext.cnf" -extensions ca_ext -out ca.pem

issue() { # name request-config extensions
	openssl req -new -key "$tmp/$1.key" -config "$2" -out "$tmp/$1.csr"
	openssl x509 -req -in "$tmp/$1.csr" -CA ca.pem -CAkey "$tmp/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 36500 \
		-extfile "$tmp/ext.cnf" -extensions "$3" -out "$1.pem"
}
issue qwac "$tmp/req-utf8.cnf" qwac_ext
issue qseal "$tmp/req-printable.cnf" qseal_ext
