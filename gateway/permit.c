/*
 * permit.c: `fhirgw permit-add`.  The options are checked here (ids,
 * resource types the gateway serves, criteria shapes), turned into
 * PostgreSQL array literals whose items can never need quoting, and
 * inserted with a 32-byte secret from RAND_bytes, passed as hex and wiped
 * right after.  The secret is written once and only the export runner
 * reads it back.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "gateway/db.h"
#include "gateway/fhir.h"
#include "gateway/gw.h"
#include "gateway/permit.h"

#define ARRAY_MAX 8192

static bool
item_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("|:/._-", c) != NULL;
}

int
gw_permit_array(const char *list, char *out, size_t outsz)
{
	size_t n = 0, item = 0;

	if (list == NULL || outsz < 3)
		return GW_ERR;
	out[n++] = '{';
	for (const char *p = list;; p++) {
		if (*p == ',' || *p == '\0') {
			if (item == 0)
				return GW_ERR;
			item = 0;
			if (*p == '\0')
				break;
		} else if (!item_char(*p)) {
			return GW_ERR;
		} else {
			item++;
		}
		if (n + 2 >= outsz)
			return GW_ERR;
		out[n++] = *p;
	}
	out[n++] = '}';
	out[n] = '\0';
	return GW_OK;
}

/* Every type in the {A,B} literal is one the gateway serves. */
static int
check_types(const char *list)
{
	char buf[ARRAY_MAX], *save = NULL;
	enum gw_rtype t;

	if (gw_strlcpy(buf, list, sizeof(buf)) != GW_OK)
		return GW_ERR;
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		if (gw_fhir_type_from_name(tok, &t) != GW_OK) {
			gw_error("permit-add: unknown resource type %s", tok);
			return GW_ERR;
		}
	return GW_OK;
}

int
gw_permit_add(const struct gw_config *cfg, const struct gw_permit_spec *s)
{
	unsigned char secret[GW_PERMIT_SECRET_LEN];
	char hex[2 * GW_PERMIT_SECRET_LEN + 1];
	char nodes[ARRAY_MAX], types[ARRAY_MAX], members[ARRAY_MAX],
	    icd[ARRAY_MAX], from[24] = "", to[24] = "", days[24] = "365";
	const char *params[12];
	PGconn *conn = NULL;
	PGresult *r = NULL;
	long days_n = 365, y0 = 0, y1 = 0;
	int rc = GW_ERR;

	if (s->id == NULL || s->nodes == NULL || s->types == NULL) {
		gw_error("permit-add: --id, --node and --types are required");
		return GW_ERR;
	}
	if (gw_permit_array(s->nodes, nodes, sizeof(nodes)) != GW_OK ||
	    gw_permit_array(s->types, types, sizeof(types)) != GW_OK ||
	    check_types(s->types) != GW_OK) {
		gw_error("permit-add: bad --node or --types list");
		return GW_ERR;
	}
	if (gw_permit_array(s->members ? s->members : "-", members,
	        sizeof(members)) != GW_OK ||
	    gw_permit_array(s->icd10 ? s->icd10 : "-", icd, sizeof(icd)) !=
	        GW_OK) {
		gw_error("permit-add: bad --members or --icd10 list");
		return GW_ERR;
	}
	/* "-" stood for "not given": an empty array. */
	if (s->members == NULL)
		strcpy(members, "{}");
	if (s->icd10 == NULL)
		strcpy(icd, "{}");
	if (s->birth_years != NULL &&
	    (sscanf(s->birth_years, "%4ld-%4ld", &y0, &y1) != 2 || y0 < 1800 ||
	        y1 < y0 || y1 > 2200)) {
		gw_error("permit-add: --birth-years wants FROM-TO");
		return GW_ERR;
	}
	if (s->birth_years != NULL) {
		snprintf(from, sizeof(from), "%ld", y0);
		snprintf(to, sizeof(to), "%ld", y1);
	}
	if (s->valid_days != NULL &&
	    gw_parse_long(s->valid_days, 1, 36500, &days_n) != GW_OK) {
		gw_error("permit-add: --valid-days wants 1..36500");
		return GW_ERR;
	}
	snprintf(days, sizeof(days), "%ld", days_n);
	if (s->precision != NULL && strcmp(s->precision, "year") != 0 &&
	    strcmp(s->precision, "month") != 0) {
		gw_error("permit-add: --precision is year or month");
		return GW_ERR;
	}
	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		gw_error("permit-add: no randomness");
		return GW_ERR;
	}
	for (size_t i = 0; i < sizeof(secret); i++)
		snprintf(hex + 2 * i, 3, "%02x", secret[i]);
	conn = gw_db_connect_blocking(cfg->db_migrate_conninfo,
	    "fhirgw permit-add");
	if (conn == NULL)
		goto err;
	params[0] = s->id;
	params[1] = s->project ? s->project : "";
	params[2] = nodes;
	params[3] = types;
	params[4] = members;
	params[5] = s->country;
	params[6] = icd;
	params[7] = s->birth_years ? from : NULL;
	params[8] = s->birth_years ? to : NULL;
	params[9] = days;
	params[10] = hex;
	params[11] = s->precision ? s->precision : "year";
	r = PQexecParams(conn,
	    "insert into gw.data_permit (id, project, nodes, resource_types,"
	    " members, country, icd10_prefixes, birth_year_from,"
	    " birth_year_to, valid_to, secret, date_precision)"
	    " values ($1, $2, $3::text[], $4::text[], $5::text[], $6,"
	    " $7::text[], $8::integer, $9::integer,"
	    " now() + make_interval(days => $10::integer),"
	    " decode($11, 'hex'), $12)",
	    12, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		gw_error("permit-add: %s", PQresultErrorMessage(r));
		goto err;
	}
	printf("%s\n", s->id);
	rc = GW_OK;
err:
	PQclear(r);
	if (conn != NULL)
		PQfinish(conn);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}
