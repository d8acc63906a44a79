#!/usr/bin/env bash
# deploy/pki.sh DIR — development PKI for fhirgw (ECDSA P-256, PEM).  Never use it in production.
#
#   DIR/ca.crt, ca.key             "Aurora dev CA": issues the server and the node certificates
#   DIR/server.crt, server.key     CN=localhost, SAN DNS:localhost, IP:127.0.0.1, serverAuth
#   DIR/crl.pem                    an empty CRL signed by the CA (valid 10 years)
#   DIR/rogue-ca.crt, rogue-ca.key another CA that the gateway does not trust
#   DIR/nodes/NAME.crt, NAME.key   client certificates (clientAuth), subject
#                                  C=FI|NO|SE, O=Aurora dev, CN=NAME-node, for NAME in:
#       fi no se                   national nodes (C=FI, NO, SE)
#       admin auditor portal research peer unknown
#                                  C=FI, signed by the CA, valid 825 days
#       expired                    signed by the CA, validity ended yesterday
#       rogue                      signed by rogue-ca
#
# Idempotent: if DIR/ca.crt exists nothing is done.  The files are made in a temporary
# directory inside DIR and moved into place at the end (ca.crt last), so an interrupted run
# leaves no half-made PKI behind.  Keys are mode 600.  Quiet on success.
set -euo pipefail

DIR=${1:?usage: deploy/pki.sh DIR}
OSSL=${OPENSSL:-openssl}
NODES=('fi' no se admin auditor portal research peer unknown expired rogue)

[[ -e "$DIR/ca.crt" ]] && exit 0
command -v "$OSSL" >/dev/null || { echo "pki.sh: openssl not found" >&2; exit 1; }

mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/.pki.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOG=$WORK/openssl.log
umask 077

# q CMD...: run quietly; on failure show what openssl said and stop.
q() {
	if ! "$@" >>"$LOG" 2>&1; then
		echo "pki.sh: failed: $*" >&2
		cat "$LOG" >&2
		exit 1
	fi
}

ec_key() { q "$OSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# A CA database of its own per CA, thrown away with WORK: `openssl ca` gives us random
# serials, explicit validity windows and the CRL.
ca_config() { # NAME -> $WORK/NAME.db/ca.cnf
	local db=$WORK/$1.db
	mkdir -p "$db/new"
	: >"$db/index.txt"
	echo 01 >"$db/crlnumber"
	cat >"$db/ca.cnf" <<-EOF
		[ca]
		default_ca = dev_ca
		[dev_ca]
		database = $db/index.txt
		new_certs_dir = $db/new
		rand_serial = yes
		crlnumber = $db/crlnumber
		default_md = sha256
		default_days = 825
		default_crl_days = 3650
		policy = any
		unique_subject = no
		email_in_dn = no
		[any]
		countryName = optional
		organizationName = optional
		commonName = supplied
	EOF
}

mkca() { # NAME SUBJECT
	ec_key "$WORK/$1.key"
	q "$OSSL" req -x509 -new -key "$WORK/$1.key" -sha256 -days 3650 -subj "$2" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$WORK/$1.crt"
	ca_config "$1"
}

# issue OUT SUBJECT server|client CA [STARTDATE ENDDATE]
issue() {
	local out=$1 subj=$2 profile=$3 ca=$4 start=${5:-} end=${6:-}
	local ext=$WORK/ext.cnf validity=()
	ec_key "$out.key"
	q "$OSSL" req -new -key "$out.key" -subj "$subj" -out "$WORK/req.csr"
	{
		echo "[leaf]"
		echo "basicConstraints = critical,CA:FALSE"
		echo "keyUsage = critical,digitalSignature"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		if [[ $profile == server ]]; then
			echo "extendedKeyUsage = serverAuth"
			echo "subjectAltName = DNS:localhost,IP:127.0.0.1"
		else
			echo "extendedKeyUsage = clientAuth"
		fi
	} >"$ext"
	if [[ -n $start ]]; then
		validity=(-startdate "$start" -enddate "$end")
	else
		validity=(-days 825)
	fi
	q "$OSSL" ca -batch -notext -preserveDN -config "$WORK/$ca.db/ca.cnf" \
		-cert "$WORK/$ca.crt" -keyfile "$WORK/$ca.key" \
		-extfile "$ext" -extensions leaf "${validity[@]}" \
		-in "$WORK/req.csr" -out "$out.crt"
	rm -f "$WORK/req.csr" "$ext"
}

mkca ca "/C=FI/O=Aurora dev/CN=Aurora dev CA"
mkca rogue-ca "/C=FI/O=Rogue dev/CN=Rogue dev CA"

issue "$WORK/server" "/C=FI/O=Aurora dev/CN=localhost" server ca

mkdir -p "$WORK/nodes"
for name in "${NODES[@]}"; do
	case $name in
	'fi') c=FI ;; no) c=NO ;; se) c=SE ;; *) c=FI ;;
	esac
	subj="/C=$c/O=Aurora dev/CN=$name-node"
	case $name in
	rogue) issue "$WORK/nodes/$name" "$subj" client rogue-ca ;;
	expired)
		issue "$WORK/nodes/$name" "$subj" client ca \
			"$(date -u -d '-30 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)"
		;;
	*) issue "$WORK/nodes/$name" "$subj" client ca ;;
	esac
done

q "$OSSL" ca -batch -gencrl -config "$WORK/ca.db/ca.cnf" \
	-cert "$WORK/ca.crt" -keyfile "$WORK/ca.key" -out "$WORK/crl.pem"

# Check before handing out: the good ones verify, the two bad ones don't.
good=("$WORK/server.crt")
for name in "${NODES[@]}"; do
	[[ $name == rogue || $name == expired ]] || good+=("$WORK/nodes/$name.crt")
done
q "$OSSL" verify -CAfile "$WORK/ca.crt" "${good[@]}"
q "$OSSL" crl -in "$WORK/crl.pem" -CAfile "$WORK/ca.crt" -noout
for bad in rogue expired; do
	if "$OSSL" verify -CAfile "$WORK/ca.crt" "$WORK/nodes/$bad.crt" >/dev/null 2>&1; then
		echo "pki.sh: BUG: nodes/$bad.crt verifies against ca.crt" >&2
		exit 1
	fi
done

chmod 600 "$WORK"/*.key "$WORK"/nodes/*.key
chmod 644 "$WORK"/*.crt "$WORK"/crl.pem "$WORK"/nodes/*.crt
chmod 755 "$WORK/nodes"

# Move into place; ca.crt last (its presence means "done").
rm -rf "$DIR/nodes"
mv "$WORK/nodes" "$DIR/nodes"
for f in ca.key server.crt server.key crl.pem rogue-ca.crt rogue-ca.key ca.crt; do
	mv -f "$WORK/$f" "$DIR/$f"
done
