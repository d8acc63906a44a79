#!/usr/bin/env bash
# deploy/quickstart.sh [--federation] [--background] | reload | stop — a working fhirgw demo on
# this machine.
#
# On Debian 12, as root (or as a user who already has the packages): installs the missing
# packages of deploy/packages.txt, builds into build/, and under var/quickstart/ makes
#   pki/          development PKI (deploy/pki.sh): CA, server and node certificates
#   pg/           a private PostgreSQL cluster on 127.0.0.1:$FHIRGW_PG_PORT (deploy/pg.sh)
#   id.key        the secret for logical-id tokens (made once, kept)
#   config.json   the gateway's configuration
# applies the migrations, seeds 1000 synthetic patients in each of the Finnish, Norwegian and
# Swedish registries (only into an empty registry, or always with FHIRGW_RESEED=1), registers
# the demo nodes, sets the demo consent (patients 2, 5 and 9 of each country are denied
# treatment access: Finland and Norway by a rule, Sweden, which is opt-in, by having no
# permit when the others have one), and starts `fhirgw serve`.  When it answers, it writes
#   env           shell `export` lines: FHIRGW_BASE, FHIRGW_CA, FHIRGW_ADMIN_URL,
#                 FHIRGW_PG_CONNINFO (owner role), FHIRGW_PG_APP_CONNINFO (the gateway's
#                 runtime role), FHIRGW_CONFIG, NODE_<NAME>_CERT / NODE_<NAME>_KEY,
#                 DEMO_PERMIT_ID (the research node's data permit over the Finnish registry;
#                 with --federation each gateway holds one over its own country, same id)
#   patients.json the first ten patients of each country, Finland's first: country, system,
#                 national_id, logical_id, consent
# and prints curl commands to try.
#
# Foreground (default): the gateway logs to this terminal; Ctrl-C stops it and the cluster.
# --background: the gateway runs under nohup, logging to var/quickstart/fhirgw.log, with its
# pid in var/quickstart/fhirgw.pid.  `stop` stops the gateway and the cluster; `reload` sends
# the running gateways SIGHUP, which re-reads their TLS material and limits (after editing
# config.json or replacing a certificate or CRL; docs/configuration.md, "Reloading").
# Re-running is safe: PKI, cluster and id.key are reused; a live gateway is never replaced.
#
# --federation: three gateways instead of one (docs/relay.md), FI on FHIRGW_PORT, NO on
# FHIRGW_PORT+1, SE on FHIRGW_PORT+2 (admin ports likewise from FHIRGW_ADMIN_PORT), each with
# its own database in the same cluster (fhirgw_fi, fhirgw_no, fhirgw_se: migrated, seeded with
# its own country only, the demo nodes registered, its own demo consent), each serving its own
# country and relaying the other two to their gateways with the `peer` node certificate
# (registered with the role peer-gateway everywhere), pinning the server key.  Config, log and
# pid of each in var/quickstart/federation/CC/; env then also holds FHIRGW_BASE_FI,
# FHIRGW_BASE_NO, FHIRGW_BASE_SE (FHIRGW_BASE is FHIRGW_BASE_FI), and per country
# FHIRGW_ADMIN_URL_CC, FHIRGW_PG_CONNINFO_CC, FHIRGW_CONFIG_CC; patients.json lists the
# patients of all three, each with its consent as its holder decides it.  `stop` stops
# whichever gateways run.
#
# Environment: FHIRGW_PORT (8443), FHIRGW_ADMIN_PORT (8080), FHIRGW_PG_PORT (55432),
# FHIRGW_RESEED=1 to replace the seeded registry.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
QS=$ROOT/var/quickstart
BIN=$ROOT/build/fhirgw
CONFIG=$QS/config.json
PIDFILE=$QS/fhirgw.pid
LOGFILE=$QS/fhirgw.log
PORT=${FHIRGW_PORT:-8443}
ADMIN_PORT=${FHIRGW_ADMIN_PORT:-8080}
PG_PORT=${FHIRGW_PG_PORT:-55432}
# The owner role runs migrate, seed and node-add (and the demo's psql); the gateway serves as
# the runtime role, which may only do what the migrations grant it (docs/audit.md, "Roles").
CONNINFO="host=127.0.0.1 port=$PG_PORT dbname=fhirgw user=fhirgw"
APP_CONNINFO="host=127.0.0.1 port=$PG_PORT dbname=fhirgw user=fhirgw_app"
FI_SYSTEM=urn:oid:1.2.246.21
# The research node's data permit (DESIGN.md section 10: DEMO_PERMIT_ID).
DEMO_PERMIT_ID=demo-research
NO_FNR_SYSTEM=urn:oid:2.16.578.1.12.4.1.4.1
NO_DNR_SYSTEM=urn:oid:2.16.578.1.12.4.1.4.2
SE_PNR_SYSTEM=http://electronichealth.se/identifier/personnummer
SE_SAM_SYSTEM=http://electronichealth.se/identifier/samordningsnummer
# Country code, registry table, and how the seed is announced.
REGISTRIES=(
	"fi fi_rekisteri.henkilo Finnish"
	"no no_register.pasient Norwegian"
	"se se_register.patient Swedish"
)
PATIENTS=1000
# Node certificate name, country, roles ("" = not registered).
NODE_TABLE=(
	"fi FI treatment"
	"no NO treatment"
	"se SE treatment"
	"admin FI consent-admin"
	"auditor FI auditor"
	"portal FI patient-portal"
	"research FI research"
	"peer FI peer-gateway"
	"expired FI treatment"
	"rogue FI "
	"unknown FI "
)

# shellcheck source=deploy/pg.sh
source "$ROOT/deploy/pg.sh"

GW_PID=
STARTED_PG=0
FOREGROUND=1
FEDERATION=0
# The federated demo: one gateway per country, each in var/quickstart/federation/CC/.
FED=$QS/federation
FED_CC=('fi' no se)
FED_PIDS=()

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'quickstart: %s\n' "$*" >&2
	exit 1
}
on_err() {
	# Only the main shell speaks; subshells (pg.sh's functions) report their own errors.
	if ((BASH_SUBSHELL == 0)); then
		printf 'quickstart: failed (exit %s) at line %s: %s\n' "$1" "$2" "$3" >&2
	fi
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

usage() {
	echo "usage: deploy/quickstart.sh [--federation] [--background] | reload | stop" >&2
	exit 2
}

port_ok() {
	[[ $2 =~ ^[0-9]+$ ]] && ((10#$2 >= 1 && 10#$2 <= 65535)) && return 0
	die "$1 must be a TCP port number, not '$2'"
}

# Something accepts connections on 127.0.0.1:PORT?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid of the gateway named by the pid file (default: the single gateway's), if it is alive.
gw_running() {
	local pid file=${1:-$PIDFILE}
	[[ -f $file ]] || return 1
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q fhirgw || return 1
	echo "$pid"
}

# Stop a process: SIGTERM, then SIGKILL after 15 s.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "quickstart: fhirgw (pid $pid) did not stop in 15 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# Reap it when it is our child (foreground mode); harmless otherwise.
	wait "$pid" 2>/dev/null || true
}

cmd_reload() {
	local pid cc n=0 log
	if pid=$(gw_running); then
		kill -HUP "$pid" && n=1
		log=$QS/fhirgw.log
	fi
	for cc in "${FED_CC[@]}"; do
		if pid=$(gw_running "$FED/$cc/fhirgw.pid"); then
			kill -HUP "$pid" && n=$((n + 1))
			log=$FED/$cc/fhirgw.log
		fi
	done
	((n > 0)) || die "no gateway is running"
	say "sent SIGHUP to $n gateway(s); each logs 'SIGHUP: reloaded' or 'SIGHUP: not reloaded'" \
		"(the last: $log)"
}

cmd_stop() {
	local pid cc
	if pid=$(gw_running); then
		say "stopping fhirgw (pid $pid)"
		stop_pid "$pid"
	elif ! fed_running >/dev/null; then
		say "fhirgw is not running"
	fi
	for cc in "${FED_CC[@]}"; do
		if pid=$(gw_running "$FED/$cc/fhirgw.pid"); then
			say "stopping the ${cc^^} gateway of the federation (pid $pid)"
			stop_pid "$pid"
		fi
		rm -f "$FED/$cc/fhirgw.pid"
	done
	rm -f "$PIDFILE" "$QS/env"
	if [[ -f $QS/pg/postmaster.pid ]]; then
		say "stopping PostgreSQL (var/quickstart/pg)"
		pg_stop "$QS/pg"
	fi
}

# On a failed start, take down what this run started.
on_exit() {
	local rc=$? pid cc
	if ((rc != 0)); then
		if [[ -n $GW_PID ]]; then
			stop_pid "$GW_PID"
			rm -f "$PIDFILE"
		fi
		for pid in "${FED_PIDS[@]}"; do stop_pid "$pid"; done
		if ((${#FED_PIDS[@]})); then
			for cc in "${FED_CC[@]}"; do rm -f "$FED/$cc/fhirgw.pid"; done
		fi
		rm -f "$QS/env"
		if ((STARTED_PG)) || { ((FOREGROUND)) && [[ -n $GW_PID || ${#FED_PIDS[@]} -gt 0 ]]; }; then
			pg_stop "$QS/pg" || true
		fi
	fi
}

# The pid of a live gateway of the federation, if any.
fed_running() {
	local cc
	for cc in "${FED_CC[@]}"; do
		gw_running "$FED/$cc/fhirgw.pid" && return 0
	done
	return 1
}

ensure_packages() {
	local p want=() missing=()
	mapfile -t want < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$ROOT/deploy/packages.txt")
	for p in "${want[@]}"; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
			missing+=("$p")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) != 0 ]]; then
		die "missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
	fi
	say "installing ${missing[*]} (log: var/quickstart/apt.log)"
	export DEBIAN_FRONTEND=noninteractive
	if ! { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; } \
		>"$QS/apt.log" 2>&1 </dev/null; then
		tail -n 20 "$QS/apt.log" >&2
		die "package installation failed; see var/quickstart/apt.log"
	fi
}

build() {
	say "building into build/ (log: var/quickstart/build.log)"
	if ! { cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$ROOT/build" -j2; } >"$QS/build.log" 2>&1; then
		tail -n 40 "$QS/build.log" >&2
		die "build failed; see var/quickstart/build.log"
	fi
	[[ -x $BIN ]] || die "the build did not produce $BIN"
}

json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# Single-quoted shell word.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_config() {
	cat >"$CONFIG.tmp" <<-EOF
		{
		  "country": "FI",
		  "listen": "127.0.0.1:$PORT",
		  "admin_listen": "127.0.0.1:$ADMIN_PORT",
		  "workers": 0,
		  "public_base_url": "https://localhost:$PORT/fhir",
		  "database": {
		    "conninfo": "$APP_CONNINFO",
		    "migrate_conninfo": "$CONNINFO",
		    "pool_size": 2
		  },
		  "tls": {
		    "cert": "pki/server.crt",
		    "key": "pki/server.key",
		    "client_ca": "pki/ca.crt",
		    "crl": "pki/crl.pem"
		  },
		  "id_key_file": "id.key",
		  "migrations_dir": $(json_str "$ROOT/deploy/migrations")
		}
	EOF
	mv -f "$CONFIG.tmp" "$CONFIG"
}

psql_q() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$CONNINFO" "$@"; }

# The first patients by id; rn 2, 5 and 9 are the demo's consent denials.
FIRST_PATIENTS="with p as (select id, hetu, fhir_tunniste, row_number() over (order by id) as rn
	from fi_rekisteri.henkilo order by id limit 10)"
DENIED="exists (select 1 from gw.consent_rule r
	where r.patient_system = '$FI_SYSTEM' and r.patient_id = p.hetu
	and r.scope = 'treatment' and r.decision = 'deny' and r.revoked_at is null
	and r.purposes = '{}' and r.recipient_countries = '{}'
	and (r.valid_from is null or r.valid_from <= now())
	and (r.valid_to is null or r.valid_to > now()))"

# The first ten patients of every country (ord: FI, NO, SE), with the identifier system each
# one's national id is emitted under.
DEMO_PATIENTS="with d as (
	select 1 as ord, 'FI'::text as country, '$FI_SYSTEM'::text as system, h.hetu as national_id,
		'fi-' || h.fhir_tunniste as logical_id, row_number() over (order by h.id) as rn
	from (select * from fi_rekisteri.henkilo order by id limit 10) h
	union all
	select 2, 'NO', case n.identtype when 'dnr' then '$NO_DNR_SYSTEM' else '$NO_FNR_SYSTEM' end,
		n.folkeregisterident, 'no-' || n.fhir_id, row_number() over (order by n.id)
	from (select * from no_register.pasient order by id limit 10) n
	union all
	select 3, 'SE', case s.personid_typ when 'samordningsnummer' then '$SE_SAM_SYSTEM'
		else '$SE_PNR_SYSTEM' end,
		s.personid, 'se-' || s.fhir_id, row_number() over (order by s.id)
	from (select * from se_register.patient order by id limit 10) s)"
# A patient's own unconditional treatment rule with decision $1 (deny, permit), for a row of d.
demo_rule() {
	printf '%s' "exists (select 1 from gw.consent_rule r
	where r.patient_system = d.system and r.patient_id = d.national_id
	and r.scope = 'treatment' and r.decision = '$1' and r.revoked_at is null
	and r.purposes = '{}' and r.recipient_countries = '{}'
	and (r.valid_from is null or r.valid_from <= now())
	and (r.valid_to is null or r.valid_to > now()))"
}
# Treatment access of a row of d: its own rule, else its country's national default.
DEMO_CONSENT="case when $(demo_rule deny) then 'deny' when $(demo_rule permit) then 'permit'
	else coalesce((select c.decision from gw.consent_default c
		where c.country = d.country and c.purpose = 'TREAT'), 'deny') end"

seed_and_consent() {
	local count reg cc table language
	for reg in "${REGISTRIES[@]}"; do
		read -r cc table language <<<"$reg"
		count=$(psql_q -c "select count(*) from $table") ||
			die "cannot read $table (did the migrations run? deploy/migrations/)"
		if [[ $count == 0 || ${FHIRGW_RESEED:-0} == 1 ]]; then
			say "seeding $PATIENTS synthetic $language patients"
			"$BIN" seed -c "$CONFIG" --country "$cc" --patients "$PATIENTS" ||
				die "fhirgw seed --country $cc failed"
		else
			say "the $language registry already holds $count patients (FHIRGW_RESEED=1 to replace them)"
		fi
	done

	say "registering demo nodes"
	local row name country roles rate
	for row in "${NODE_TABLE[@]}"; do
		read -r name country roles <<<"$row"
		[[ -n $roles ]] || continue
		# A peer gateway carries a whole country's requests: no per-node rate.
		rate=()
		[[ $roles == *peer-gateway* ]] && rate=(--rate 0)
		"$BIN" node-add -c "$CONFIG" --cert "$QS/pki/nodes/$name.crt" --name "$name-node" \
			--country "$country" --roles "$roles" "${rate[@]}" >/dev/null ||
			die "fhirgw node-add failed for $name"
	done

	# The research node's data permit (docs/export.md) over the first registry's country:
	# kept when it already exists, so a re-run does not rotate its pseudonym secret.
	local permit_cc
	read -r permit_cc _ <<<"${REGISTRIES[0]}"
	if [[ $(psql_q -c "select count(*) from gw.data_permit where id = '$DEMO_PERMIT_ID'") == 0 ]]; then
		say "data permit $DEMO_PERMIT_ID for the research node over the ${permit_cc^^} registry"
		"$BIN" permit-add -c "$CONFIG" --id "$DEMO_PERMIT_ID" --node research-node \
			--types Patient,Condition,AllergyIntolerance,MedicationStatement,Immunization,Observation \
			--project "Aurora demo study" --country "${permit_cc^^}" --valid-days 365 >/dev/null ||
			die "fhirgw permit-add failed"
	fi

	say "demo consent: patients 2, 5 and 9 deny treatment access"
	psql_q <<-EOF >/dev/null || die "could not insert the demo consent rules"
		$FIRST_PATIENTS
		insert into gw.consent_rule (patient_system, patient_id, scope, decision, purposes)
		select '$FI_SYSTEM', p.hetu, 'treatment', 'deny', '{}'
		from p where p.rn in (2, 5, 9) and not $DENIED;
	EOF
	# Norway like Finland; Sweden is opt-in: the others get a permit, 2, 5 and 9 none.
	psql_q <<-EOF >/dev/null || die "could not insert the demo consent rules"
		$DEMO_PATIENTS
		insert into gw.consent_rule (patient_system, patient_id, scope, decision, purposes)
		select d.system, d.national_id, 'treatment', 'deny', '{}'
		from d where d.country = 'NO' and d.rn in (2, 5, 9) and not $(demo_rule deny);
		$DEMO_PATIENTS
		insert into gw.consent_rule (patient_system, patient_id, scope, decision, purposes)
		select d.system, d.national_id, 'treatment', 'permit', '{}'
		from d where d.country = 'SE' and d.rn not in (2, 5, 9) and not $(demo_rule permit);
	EOF
}

write_ready_files() {
	local name var tmp=$QS/env.tmp
	psql_q >"$QS/patients.json.tmp" <<-EOF || die "could not list the demo patients"
		$DEMO_PATIENTS
		select coalesce(json_agg(json_build_object(
			'country', d.country, 'system', d.system, 'national_id', d.national_id,
			'logical_id', d.logical_id,
			'consent', $DEMO_CONSENT) order by d.ord, d.rn), '[]')
		from d;
	EOF
	# One patient per line is easier to read; the data is the same without python3.
	if python3 -m json.tool "$QS/patients.json.tmp" >"$QS/patients.json.pretty" 2>/dev/null; then
		mv -f "$QS/patients.json.pretty" "$QS/patients.json.tmp"
	fi
	rm -f "$QS/patients.json.pretty"
	mv -f "$QS/patients.json.tmp" "$QS/patients.json"

	{
		echo "# fhirgw quickstart: source this file (. var/quickstart/env)"
		echo "export FHIRGW_BASE=$(shq "https://localhost:$PORT/fhir")"
		echo "export FHIRGW_CA=$(shq "$QS/pki/ca.crt")"
		echo "export FHIRGW_ADMIN_URL=$(shq "http://127.0.0.1:$ADMIN_PORT")"
		echo "export FHIRGW_PG_CONNINFO=$(shq "$CONNINFO")"
		echo "export FHIRGW_PG_APP_CONNINFO=$(shq "$APP_CONNINFO")"
		echo "export FHIRGW_CONFIG=$(shq "$CONFIG")"
		echo "export DEMO_PERMIT_ID=$(shq "$DEMO_PERMIT_ID")"
		for name in 'fi' no se admin auditor portal research peer rogue expired unknown; do
			var=NODE_${name^^}
			echo "export ${var}_CERT=$(shq "$QS/pki/nodes/$name.crt")"
			echo "export ${var}_KEY=$(shq "$QS/pki/nodes/$name.key")"
		done
	} >"$tmp"
	mv -f "$tmp" "$QS/env"
}

print_howto() {
	local ok_id ok_hetu deny_id
	ok_id=$(psql_q -c "$FIRST_PATIENTS select 'fi-' || fhir_tunniste from p where not $DENIED order by rn limit 1")
	ok_hetu=$(psql_q -c "$FIRST_PATIENTS select hetu from p where not $DENIED order by rn limit 1")
	deny_id=$(psql_q -c "$FIRST_PATIENTS select 'fi-' || fhir_tunniste from p where $DENIED order by rn limit 1")
	local no_ident se_ident
	no_ident=$(psql_q -c "$DEMO_PATIENTS select system || '|' || national_id from d
		where country = 'NO' and $DEMO_CONSENT = 'permit' order by rn limit 1")
	se_ident=$(psql_q -c "$DEMO_PATIENTS select system || '|' || national_id from d
		where country = 'SE' and $DEMO_CONSENT = 'permit' order by rn limit 1")
	# shellcheck disable=SC2016 # printed for the user's shell to expand
	local c='curl --cacert "$FHIRGW_CA"' node='--cert "$NODE_FI_CERT" --key "$NODE_FI_KEY"'
	local no_node='--cert "$NODE_NO_CERT" --key "$NODE_NO_KEY"'
	local se_node='--cert "$NODE_SE_CERT" --key "$NODE_SE_KEY"'
	local treat="-H 'X-Purpose-Of-Use: TREAT'"
	cat <<-EOF

		fhirgw is ready: FHIR at https://localhost:$PORT/fhir, admin at http://127.0.0.1:$ADMIN_PORT
		Demo patients: $QS/patients.json

		Try it (in another terminal):

		  . $(shq "$QS/env")

		  # IPS summary of a patient, as the Finnish national node
		  $c $node $treat "\$FHIRGW_BASE/Patient/$ok_id/\\\$summary"

		  # find a patient by henkilötunnus
		  $c $node $treat -G "\$FHIRGW_BASE/Patient" --data-urlencode 'identifier=$FI_SYSTEM|$ok_hetu'

		  # Norway and Sweden, as their national nodes: by fødselsnummer, by personnummer
		  # (the 10-digit form YYMMDD-NNNC works too)
		  $c $no_node $treat -G "\$FHIRGW_BASE/Patient" --data-urlencode 'identifier=$no_ident'
		  $c $se_node $treat -G "\$FHIRGW_BASE/Patient" --data-urlencode 'identifier=$se_ident'

		  # a patient who denied access: 403 OperationOutcome naming the consent rule
		  $c $node $treat "\$FHIRGW_BASE/Patient/$deny_id/\\\$summary"

		  # who accessed the first patient's data: the audit trail as AuditEvents (role auditor)
		  $c --cert "\$NODE_AUDITOR_CERT" --key "\$NODE_AUDITOR_KEY" "\$FHIRGW_BASE/AuditEvent?patient=$ok_id"

		  # the summary as an IHE MHD DocumentReference (its attachment URL is the \$summary)
		  $c $node $treat "\$FHIRGW_BASE/DocumentReference?patient=$ok_id&type=http://loinc.org|60591-5"

		  # research: pseudonymised bulk export under the demo data permit (202, then poll
		  # the Content-Location it returns with the same certificate)
		  $c -i --cert "\$NODE_RESEARCH_CERT" --key "\$NODE_RESEARCH_KEY" -H 'Prefer: respond-async' \\
		    "\$FHIRGW_BASE/Group/\$DEMO_PERMIT_ID/\\\$export"

		  # a certificate from an untrusted CA: the TLS handshake is refused
		  $c --cert "\$NODE_ROGUE_CERT" --key "\$NODE_ROGUE_KEY" "\$FHIRGW_BASE/metadata"

	EOF
	if ((FOREGROUND)); then
		echo "Ctrl-C stops the gateway and PostgreSQL."
	else
		echo "Log: $LOGFILE    Stop: ./deploy/quickstart.sh stop"
	fi
}

wait_ready() {
	local deadline=$((SECONDS + 30)) code
	while ((SECONDS < deadline)); do
		if ! kill -0 "$GW_PID" 2>/dev/null; then
			((FOREGROUND)) || tail -n 30 "$LOGFILE" >&2
			die "fhirgw exited during start-up"
		fi
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/healthz" || true)
		[[ $code == 200 ]] && return 0
		sleep 0.2
	done
	((FOREGROUND)) || tail -n 30 "$LOGFILE" >&2
	die "fhirgw did not answer http://127.0.0.1:$ADMIN_PORT/healthz within 30 s"
}

# Ctrl-C, kill or a closed terminal: on_exit takes down what this run started (in the
# foreground, once the gateway runs, that is the gateway and the cluster).
on_signal() {
	trap - INT TERM HUP
	echo
	say "stopping"
	exit 130
}

# --- the federated demo (--federation, docs/relay.md) -----------------------------------------

# Hex SHA-256 of a certificate's public key (DER SubjectPublicKeyInfo): how fhirgw names nodes
# and pins peers.
key_hash() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1
}

# Ports of a country's gateway: FI, NO, SE on PORT, PORT+1, PORT+2 (admin likewise).
fed_offset() { case $1 in fi) echo 0 ;; no) echo 1 ;; se) echo 2 ;; esac; }
fed_port() { echo $((10#$PORT + $(fed_offset "$1"))); }
fed_admin_port() { echo $((10#$ADMIN_PORT + $(fed_offset "$1"))); }
fed_base() { echo "https://localhost:$(fed_port "$1")/fhir"; }
# fed_conninfo CC [ROLE]: the country's own database, as the owner (default) or ROLE.
fed_conninfo() { echo "host=127.0.0.1 port=$PG_PORT dbname=fhirgw_$1 user=${2:-fhirgw}"; }

# The config of country CC's gateway: its own country local, the other two relayed to their
# gateways with the peer node certificate, pinning the server key PIN.
fed_write_config() {
	local cc=$1 pin=$2 dir=$FED/$1 o sep="" peers=""
	mkdir -p "$dir"
	for o in "${FED_CC[@]}"; do
		[[ $o == "$cc" ]] && continue
		peers+=$(printf '%s\n    "%s": {\n      "url": %s,\n      "cert": %s,\n      "key": %s,\n      "ca": %s,\n      "pin_sha256": "%s"\n    }' \
			"$sep" "${o^^}" "$(json_str "$(fed_base "$o")")" \
			"$(json_str "$QS/pki/nodes/peer.crt")" "$(json_str "$QS/pki/nodes/peer.key")" \
			"$(json_str "$QS/pki/ca.crt")" "$pin")
		sep=,
	done
	cat >"$dir/config.json.tmp" <<-EOF
		{
		  "country": "${cc^^}",
		  "listen": "127.0.0.1:$(fed_port "$cc")",
		  "admin_listen": "127.0.0.1:$(fed_admin_port "$cc")",
		  "workers": 0,
		  "public_base_url": "$(fed_base "$cc")",
		  "database": {
		    "conninfo": "$(fed_conninfo "$cc" fhirgw_app)",
		    "migrate_conninfo": "$(fed_conninfo "$cc")",
		    "pool_size": 2
		  },
		  "tls": {
		    "cert": $(json_str "$QS/pki/server.crt"),
		    "key": $(json_str "$QS/pki/server.key"),
		    "client_ca": $(json_str "$QS/pki/ca.crt"),
		    "crl": $(json_str "$QS/pki/crl.pem")
		  },
		  "id_key_file": $(json_str "$QS/id.key"),
		  "migrations_dir": $(json_str "$ROOT/deploy/migrations"),
		  "local_countries": ["${cc^^}"],
		  "peers": {$peers
		  }
		}
	EOF
	mv -f "$dir/config.json.tmp" "$dir/config.json"
}

# Country CC's database: created, migrated, its own registry seeded, the demo nodes registered,
# its own demo consent -- the single gateway's steps (seed_and_consent), on this database.
fed_provision() {
	local cc=$1 pin=$2 reg row=
	for reg in "${REGISTRIES[@]}"; do [[ $reg == "$cc "* ]] && row=$reg; done
	local REGISTRIES=("$row")
	local CONFIG=$FED/$cc/config.json
	local CONNINFO
	CONNINFO=$(fed_conninfo "$cc")
	pg_createdb "$QS/pg" "$PG_PORT" "fhirgw_$cc"
	fed_write_config "$cc" "$pin"
	say "${cc^^}: applying migrations to database fhirgw_$cc"
	"$BIN" migrate -c "$CONFIG" || die "fhirgw migrate failed for ${cc^^}"
	seed_and_consent
}

fed_start() {
	local cc=$1 dir=$FED/$1 pid
	say "starting the ${cc^^} gateway on $(fed_base "$cc") (admin http://127.0.0.1:$(fed_admin_port "$cc"))"
	if ((FOREGROUND)); then
		"$BIN" serve -c "$dir/config.json" > >(sed -u "s/^/[${cc^^}] /") 2>&1 &
		pid=$!
	else
		nohup "$BIN" serve -c "$dir/config.json" >>"$dir/fhirgw.log" 2>&1 </dev/null &
		pid=$!
	fi
	FED_PIDS+=("$pid")
	echo "$pid" >"$dir/fhirgw.pid"
}

fed_wait_ready() {
	local cc=$1 pid=$2 deadline=$((SECONDS + 30)) code
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			((FOREGROUND)) || tail -n 30 "$FED/$cc/fhirgw.log" >&2
			die "the ${cc^^} gateway exited during start-up"
		fi
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
			"http://127.0.0.1:$(fed_admin_port "$cc")/healthz" || true)
		[[ $code == 200 ]] && return 0
		sleep 0.2
	done
	((FOREGROUND)) || tail -n 30 "$FED/$cc/fhirgw.log" >&2
	die "the ${cc^^} gateway did not answer its /healthz within 30 s"
}

# The demo patients of country CC as a JSON array, from its own database (consent as CC's
# gateway decides it).
fed_patients_of() {
	local cc=$1 CONNINFO
	CONNINFO=$(fed_conninfo "$cc")
	psql_q <<-EOF
		$DEMO_PATIENTS
		select coalesce(json_agg(json_build_object(
			'country', d.country, 'system', d.system, 'national_id', d.national_id,
			'logical_id', d.logical_id,
			'consent', $DEMO_CONSENT) order by d.ord, d.rn), '[]')
		from d where d.country = '${cc^^}';
	EOF
}

fed_write_ready_files() {
	local cc part all="" name var tmp=$QS/env.tmp
	for cc in "${FED_CC[@]}"; do
		part=$(fed_patients_of "$cc") || die "could not list the demo patients of ${cc^^}"
		part=${part#\[}
		part=${part%\]}
		[[ -n $part ]] || continue
		all+=${all:+,}$part
	done
	printf '[%s]\n' "$all" >"$QS/patients.json.tmp"
	if python3 -m json.tool "$QS/patients.json.tmp" >"$QS/patients.json.pretty" 2>/dev/null; then
		mv -f "$QS/patients.json.pretty" "$QS/patients.json.tmp"
	fi
	rm -f "$QS/patients.json.pretty"
	mv -f "$QS/patients.json.tmp" "$QS/patients.json"

	{
		echo "# fhirgw quickstart (federation): source this file (. var/quickstart/env)"
		echo "export FHIRGW_BASE=$(shq "$(fed_base 'fi')")"
		for cc in "${FED_CC[@]}"; do
			echo "export FHIRGW_BASE_${cc^^}=$(shq "$(fed_base "$cc")")"
		done
		echo "export FHIRGW_CA=$(shq "$QS/pki/ca.crt")"
		echo "export FHIRGW_ADMIN_URL=$(shq "http://127.0.0.1:$(fed_admin_port 'fi')")"
		echo "export FHIRGW_PG_CONNINFO=$(shq "$(fed_conninfo 'fi')")"
		echo "export FHIRGW_PG_APP_CONNINFO=$(shq "$(fed_conninfo 'fi' fhirgw_app)")"
		echo "export FHIRGW_CONFIG=$(shq "$FED/fi/config.json")"
		echo "export DEMO_PERMIT_ID=$(shq "$DEMO_PERMIT_ID")"
		for cc in "${FED_CC[@]}"; do
			echo "export FHIRGW_ADMIN_URL_${cc^^}=$(shq "http://127.0.0.1:$(fed_admin_port "$cc")")"
			echo "export FHIRGW_PG_CONNINFO_${cc^^}=$(shq "$(fed_conninfo "$cc")")"
			echo "export FHIRGW_CONFIG_${cc^^}=$(shq "$FED/$cc/config.json")"
		done
		for name in 'fi' no se admin auditor portal research peer rogue expired unknown; do
			var=NODE_${name^^}
			echo "export ${var}_CERT=$(shq "$QS/pki/nodes/$name.crt")"
			echo "export ${var}_KEY=$(shq "$QS/pki/nodes/$name.key")"
		done
	} >"$tmp"
	mv -f "$tmp" "$QS/env"
}

fed_print_howto() {
	local CONNINFO ok_id deny_id no_ident
	CONNINFO=$(fed_conninfo 'fi')
	ok_id=$(psql_q -c "$FIRST_PATIENTS select 'fi-' || fhir_tunniste from p where not $DENIED order by rn limit 1")
	deny_id=$(psql_q -c "$FIRST_PATIENTS select 'fi-' || fhir_tunniste from p where $DENIED order by rn limit 1")
	CONNINFO=$(fed_conninfo no)
	no_ident=$(psql_q -c "$DEMO_PATIENTS select system || '|' || national_id from d
		where country = 'NO' and $DEMO_CONSENT = 'permit' order by rn limit 1")
	# shellcheck disable=SC2016 # printed for the user's shell to expand
	local c='curl --cacert "$FHIRGW_CA"' treat="-H 'X-Purpose-Of-Use: TREAT'" \
		no_node='--cert "$NODE_NO_CERT" --key "$NODE_NO_KEY"' \
		se_node='--cert "$NODE_SE_CERT" --key "$NODE_SE_KEY"' \
		auditor='--cert "$NODE_AUDITOR_CERT" --key "$NODE_AUDITOR_KEY"'
	cat <<-EOF

		The federation is ready: FI at $(fed_base 'fi'), NO at $(fed_base no), SE at $(fed_base se)
		Demo patients: $QS/patients.json

		Try it (in another terminal):

		  . $(shq "$QS/env")

		  # a Finnish patient's IPS summary, as the Norwegian node asking the Norwegian gateway:
		  # NO relays to FI over mutual TLS, FI decides consent for Norway, audits and answers
		  $c $no_node $treat "\$FHIRGW_BASE_NO/Patient/$ok_id/\\\$summary"

		  # a Norwegian patient by fødselsnummer, as the Swedish node asking the Swedish gateway
		  $c $se_node $treat -G "\$FHIRGW_BASE_SE/Patient" --data-urlencode 'identifier=$no_ident'

		  # a Finnish patient who denied access, through the Norwegian gateway: FI's 403 and rule
		  $c $no_node $treat "\$FHIRGW_BASE_NO/Patient/$deny_id/\\\$summary"

		  # both gateways recorded the call: what NO relayed to whom, and what FI decided
		  $c $auditor "\$FHIRGW_BASE_NO/AuditEvent?patient=$ok_id"
		  $c $auditor "\$FHIRGW_BASE_FI/AuditEvent?patient=$ok_id"

	EOF
	if ((FOREGROUND)); then
		echo "Ctrl-C stops the three gateways and PostgreSQL."
	else
		echo "Logs: $FED/{fi,no,se}/fhirgw.log    Stop: ./deploy/quickstart.sh stop"
	fi
}

federation_main() {
	local cc pin i rc=0 p
	pin=$(key_hash "$QS/pki/server.crt")
	[[ $pin =~ ^[0-9a-f]{64}$ ]] || die "could not compute the server key's SHA-256 with openssl"
	for cc in "${FED_CC[@]}"; do
		fed_provision "$cc" "$pin"
	done
	for cc in "${FED_CC[@]}"; do
		for p in "$(fed_port "$cc")" "$(fed_admin_port "$cc")"; do
			if port_busy "$p"; then die "127.0.0.1:$p is already in use by another program"; fi
		done
	done
	for cc in "${FED_CC[@]}"; do
		fed_start "$cc"
	done
	for i in "${!FED_CC[@]}"; do
		fed_wait_ready "${FED_CC[$i]}" "${FED_PIDS[$i]}"
	done
	fed_write_ready_files
	fed_print_howto
	if ((FOREGROUND)); then
		# The first gateway to exit ends the demo; the others and PostgreSQL follow.
		wait -n "${FED_PIDS[@]}" || rc=$?
		trap - INT TERM HUP
		say "a gateway exited (status $rc); stopping the others and PostgreSQL"
		for p in "${FED_PIDS[@]}"; do stop_pid "$p"; done
		FED_PIDS=()
		STARTED_PG=0
		for cc in "${FED_CC[@]}"; do rm -f "$FED/$cc/fhirgw.pid"; done
		rm -f "$QS/env"
		pg_stop "$QS/pg" || true
		exit "$rc"
	fi
}

# ---------------------------------------------------------------------------------------------
if [[ ${1:-} == stop ]]; then
	[[ $# == 1 ]] || usage
	cmd_stop
	exit 0
fi
if [[ ${1:-} == reload ]]; then
	[[ $# == 1 ]] || usage
	cmd_reload
	exit 0
fi
for arg in "$@"; do
	case $arg in
	--background) FOREGROUND=0 ;;
	--federation) FEDERATION=1 ;;
	*) usage ;;
	esac
done
[[ $# -le 2 ]] || usage
port_ok FHIRGW_PORT "$PORT"
port_ok FHIRGW_ADMIN_PORT "$ADMIN_PORT"
port_ok FHIRGW_PG_PORT "$PG_PORT"
if ((FEDERATION)); then
	port_ok "FHIRGW_PORT+2" "$((10#$PORT + 2))"
	port_ok "FHIRGW_ADMIN_PORT+2" "$((10#$ADMIN_PORT + 2))"
fi

if pid=$(gw_running); then
	die "fhirgw is already running (pid $pid); run ./deploy/quickstart.sh stop first"
fi
if pid=$(fed_running); then
	die "the federated fhirgw demo is already running (pid $pid); run ./deploy/quickstart.sh stop first"
fi
rm -f "$PIDFILE" "$QS/env"

mkdir -p "$QS"
# The cluster's owner (postgres, when we are root) must be able to traverse down to pg/.
chmod go+x "$ROOT/var" "$QS"
trap on_exit EXIT
trap on_signal INT TERM HUP

ensure_packages
build
PSQL=$(pg_bindir)/psql

say "PKI in var/quickstart/pki"
"$ROOT/deploy/pki.sh" "$QS/pki"

if [[ ! -f $QS/pg/PG_VERSION ]]; then
	say "creating a PostgreSQL cluster in var/quickstart/pg"
	pg_init "$QS/pg" "$PG_PORT"
fi
if pg_status "$QS/pg" >/dev/null 2>&1; then
	running_port=$(sed -n 4p "$QS/pg/postmaster.pid")
	if [[ $running_port != "$PG_PORT" ]]; then
		say "PostgreSQL runs on port $running_port; restarting it on $PG_PORT"
		pg_stop "$QS/pg"
		pg_start "$QS/pg" "$PG_PORT"
		STARTED_PG=1
	fi
else
	say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
	pg_start "$QS/pg" "$PG_PORT"
	STARTED_PG=1
fi

# Clusters made before the runtime role existed get it now (idempotent).
pg_roles "$QS/pg" "$PG_PORT"

if [[ ! -s $QS/id.key ]]; then
	(umask 077 && openssl rand 32 >"$QS/id.key.tmp" && mv -f "$QS/id.key.tmp" "$QS/id.key")
fi
(($(stat -c %s "$QS/id.key") >= 32)) || die "$QS/id.key is shorter than 32 bytes"

if ((FEDERATION)); then
	federation_main
	exit 0
fi

write_config
say "applying migrations"
"$BIN" migrate -c "$CONFIG" || die "fhirgw migrate failed"
seed_and_consent

for p in "$PORT" "$ADMIN_PORT"; do
	if port_busy "$p"; then die "127.0.0.1:$p is already in use by another program"; fi
done

say "starting fhirgw on https://localhost:$PORT (admin http://127.0.0.1:$ADMIN_PORT)"
if ((FOREGROUND)); then
	"$BIN" serve -c "$CONFIG" &
	GW_PID=$!
else
	nohup "$BIN" serve -c "$CONFIG" >>"$LOGFILE" 2>&1 </dev/null &
	GW_PID=$!
fi
echo "$GW_PID" >"$PIDFILE"
wait_ready
write_ready_files
print_howto

if ((FOREGROUND)); then
	rc=0
	wait "$GW_PID" || rc=$?
	trap - INT TERM HUP
	say "fhirgw exited (status $rc); stopping PostgreSQL"
	GW_PID=
	STARTED_PG=0
	rm -f "$PIDFILE" "$QS/env"
	pg_stop "$QS/pg" || true
	exit "$rc"
fi
