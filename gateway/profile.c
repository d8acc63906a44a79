/*
 * profile.c: a small validator for the profile subsets in profiles/.
 *
 * A path is dot-separated element names; arrays are flattened, so
 * "code.coding.system" is every system of every coding.  "a|b" sums the
 * values of alternatives (a choice type such as effective[x]).  A rule
 * counts the values at its path (min/max) or checks each of them (fixed,
 * in), optionally for each element of an "each" path and only "when"
 * another path holds a value.  The structural checks need no profile:
 * FHIR JSON never contains null, its repeating elements are arrays, and a
 * value[x] suffix fixes the JSON type.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/adapter.h"
#include "gateway/gw.h"
#include "gateway/profile.h"

#define PROFILE_MAX_BYTES (256 * 1024)
#define MAX_PROFILES 64
#define MAX_VALUES 4096

struct profile {
	char *resource_type;
	char *url;
	cJSON *rules; /* the "rules" array, owned by doc */
	cJSON *doc;
};

struct gw_profiles {
	struct profile items[MAX_PROFILES];
	int n;
};

/* Elements that repeat in R4 wherever they appear, so a non-array value
 * is a structural error.  Names that repeat only in some places are not
 * listed: identifier (Bundle.identifier), name and address
 * (Patient.contact), profile and security (CapabilityStatement.rest). */
static const char *const array_elements[] = { "coding", "extension",
	"modifierExtension", "entry", "telecom", "given", "prefix", "suffix",
	"line", "contained", "section", "category", "author", "link", "issue",
	"reaction", "manifestation", "dosage", "protocolApplied",
	"referenceRange", "communication", "tag", "note", "performer", NULL };

static void
issue(cJSON *issues, const char *where, const char *what)
{
	cJSON *i = cJSON_CreateObject(), *expr;

	cJSON_AddStringToObject(i, "severity", "error");
	cJSON_AddStringToObject(i, "code", "invalid");
	cJSON_AddStringToObject(i, "diagnostics", what);
	expr = cJSON_AddArrayToObject(i, "expression");
	cJSON_AddItemToArray(expr, cJSON_CreateString(where));
	cJSON_AddItemToArray(issues, i);
}

/* An Identifier whose system a local adapter owns must pass its check. */
static int
check_identifier(const cJSON *id, const char *path, cJSON *issues)
{
	const cJSON *sys = cJSON_GetObjectItem(id, "system");
	const cJSON *val = cJSON_GetObjectItem(id, "value");
	const struct gw_id_system *ids = NULL;

	if (!cJSON_IsString(sys) || !cJSON_IsString(val) ||
	    gw_adapter_by_system(sys->valuestring, &ids) == NULL ||
	    ids->valid(val->valuestring))
		return 0;
	issue(issues, path, "identifier fails its check digits or date");
	return 1;
}

static bool
is_array_element(const char *name)
{
	for (size_t i = 0; array_elements[i] != NULL; i++)
		if (strcmp(array_elements[i], name) == 0)
			return true;
	return false;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Walk every node: nulls, arrays, value[x] types, identifiers. */
static int
structural(const cJSON *node, const char *where, cJSON *issues)
{
	char path[256];
	int bad = 0, index = 0;

	for (const cJSON *c = node->child; c != NULL; c = c->next, index++) {
		const char *name = c->string;

		if (cJSON_IsArray(node))
			snprintf(path, sizeof(path), "%s[%d]", where, index);
		else
			snprintf(path, sizeof(path), "%s.%s", where, name);
		if (cJSON_IsNull(c)) {
			issue(issues, path, "null is not allowed in FHIR JSON");
			bad++;
			continue;
		}
		if (name != NULL && cJSON_IsObject(node)) {
			if (is_array_element(name) && !cJSON_IsArray(c)) {
				issue(issues, path, "must be an array");
				bad++;
			}
			if ((has_suffix(name, "Boolean") &&
			    strncmp(name, "value", 5) == 0 && !cJSON_IsBool(c)) ||
			    ((has_suffix(name, "Integer") ||
			    has_suffix(name, "PositiveInt") ||
			    has_suffix(name, "UnsignedInt") ||
			    has_suffix(name, "Decimal")) && !cJSON_IsNumber(c)) ||
			    ((has_suffix(name, "DateTime") ||
			    has_suffix(name, "String") ||
			    has_suffix(name, "Code") || has_suffix(name, "Uri")) &&
			    strncmp(name, "value", 5) == 0 &&
			    !cJSON_IsString(c))) {
				issue(issues, path, "wrong JSON type for its "
				    "data type");
				bad++;
			}
			if (has_suffix(name, "PositiveInt") &&
			    cJSON_IsNumber(c) && c->valuedouble < 1) {
				issue(issues, path, "must be a positive integer");
				bad++;
			}
			if (strcmp(name, "identifier") == 0) {
				const cJSON *id;

				if (cJSON_IsObject(c))
					bad += check_identifier(c, path, issues);
				else if (cJSON_IsArray(c))
					cJSON_ArrayForEach(id, c)
						bad += check_identifier(id, path,
						    issues);
			}
		}
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			bad += structural(c, path, issues);
	}
	return bad;
}

/* Collect the values at path (alternatives split by '|') below node. */
static void
collect(const cJSON *node, const char *path, const cJSON **out, int *n)
{
	char head[64];
	const char *dot, *bar = strchr(path, '|');
	size_t len;

	if (bar != NULL) {
		char first[256];

		len = (size_t)(bar - path);
		if (len >= sizeof(first))
			return;
		memcpy(first, path, len);
		first[len] = '\0';
		collect(node, first, out, n);
		collect(node, bar + 1, out, n);
		return;
	}
	if (cJSON_IsArray(node)) {
		const cJSON *c;

		cJSON_ArrayForEach(c, node)
			collect(c, path, out, n);
		return;
	}
	if (*path == '\0') {
		if (*n < MAX_VALUES)
			out[(*n)++] = node;
		return;
	}
	if (!cJSON_IsObject(node))
		return;
	dot = strchr(path, '.');
	len = dot ? (size_t)(dot - path) : strlen(path);
	if (len >= sizeof(head))
		return;
	memcpy(head, path, len);
	head[len] = '\0';
	node = cJSON_GetObjectItemCaseSensitive(node, head);
	if (node != NULL)
		collect(node, dot ? dot + 1 : "", out, n);
}

static bool
value_is(const cJSON *v, const cJSON *want)
{
	if (cJSON_IsString(v) && cJSON_IsString(want))
		return strcmp(v->valuestring, want->valuestring) == 0;
	if (cJSON_IsNumber(v) && cJSON_IsNumber(want))
		return v->valuedouble == want->valuedouble;
	if (cJSON_IsBool(v) && cJSON_IsBool(want))
		return cJSON_IsTrue(v) == cJSON_IsTrue(want);
	return false;
}

static int
check_rule(const cJSON *rule, const cJSON *node, const char *where,
    cJSON *issues, const cJSON **vals)
{
	const cJSON *path = cJSON_GetObjectItem(rule, "path");
	const cJSON *min = cJSON_GetObjectItem(rule, "min");
	const cJSON *max = cJSON_GetObjectItem(rule, "max");
	const cJSON *fixed = cJSON_GetObjectItem(rule, "fixed");
	const cJSON *in = cJSON_GetObjectItem(rule, "in");
	char at[300], msg[300];
	int n = 0, bad = 0;

	collect(node, path->valuestring, vals, &n);
	snprintf(at, sizeof(at), "%s.%s", where, path->valuestring);
	if (cJSON_IsNumber(min) && n < min->valueint) {
		snprintf(msg, sizeof(msg), "%s: %d value(s), at least %d "
		    "required", path->valuestring, n, min->valueint);
		issue(issues, at, msg);
		bad++;
	}
	if (cJSON_IsNumber(max) && n > max->valueint) {
		snprintf(msg, sizeof(msg), "%s: %d values, at most %d allowed",
		    path->valuestring, n, max->valueint);
		issue(issues, at, msg);
		bad++;
	}
	for (int i = 0; i < n; i++) {
		bool ok = true;

		if (fixed != NULL)
			ok = value_is(vals[i], fixed);
		if (ok && cJSON_IsArray(in)) {
			const cJSON *w;

			ok = false;
			cJSON_ArrayForEach(w, in)
				ok = ok || value_is(vals[i], w);
		}
		if (!ok) {
			snprintf(msg, sizeof(msg), "%s: value %s is not "
			    "allowed by the profile", path->valuestring,
			    cJSON_IsString(vals[i]) ? vals[i]->valuestring :
			    "(not a string)");
			issue(issues, at, msg);
			bad++;
		}
	}
	return bad;
}

static int
apply_rules(const struct profile *p, const cJSON *res, cJSON *issues)
{
	const cJSON **vals = gw_calloc(MAX_VALUES, sizeof(*vals));
	const cJSON **scope = gw_calloc(MAX_VALUES, sizeof(*scope));
	const cJSON *rule;
	int bad = 0;

	cJSON_ArrayForEach(rule, p->rules) {
		const cJSON *each = cJSON_GetObjectItem(rule, "each");
		const cJSON *when = cJSON_GetObjectItem(rule, "when");
		int ns = 0;

		if (when != NULL) {
			const cJSON *want = cJSON_GetObjectItem(when, "equals");
			int n = 0;
			bool hit = false;

			collect(res, cJSON_GetObjectItem(when, "path")->valuestring,
			    vals, &n);
			for (int i = 0; i < n; i++)
				hit = hit || value_is(vals[i], want);
			if (!hit)
				continue;
		}
		if (each != NULL) {
			collect(res, each->valuestring, scope, &ns);
			for (int i = 0; i < ns; i++) {
				char where[128];

				snprintf(where, sizeof(where), "%s.%s[%d]",
				    p->resource_type, each->valuestring, i);
				bad += check_rule(rule, scope[i], where, issues,
				    vals);
			}
		} else {
			bad += check_rule(rule, res, p->resource_type, issues,
			    vals);
		}
	}
	free(vals);
	free(scope);
	return bad;
}

static int
validate(const struct gw_profiles *p, const cJSON *res, cJSON *issues)
{
	const cJSON *rt = cJSON_GetObjectItem(res, "resourceType");
	const cJSON *entries, *e;
	int bad = 0;

	if (!cJSON_IsObject(res) || !cJSON_IsString(rt)) {
		issue(issues, "(root)", "not a FHIR resource: no resourceType");
		return 1;
	}
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->items[i].resource_type, rt->valuestring) == 0)
			bad += apply_rules(&p->items[i], res, issues);
	if (strcmp(rt->valuestring, "Bundle") == 0 &&
	    (entries = cJSON_GetObjectItem(res, "entry")) != NULL &&
	    cJSON_IsArray(entries)) {
		cJSON_ArrayForEach(e, entries) {
			const cJSON *r = cJSON_GetObjectItem(e, "resource");

			if (cJSON_IsObject(r))
				bad += validate(p, r, issues);
		}
	}
	return bad;
}

int
gw_profiles_validate(const struct gw_profiles *p, const cJSON *resource,
    cJSON *issues)
{
	const cJSON *rt = cJSON_GetObjectItem(resource, "resourceType");

	return structural(resource, cJSON_IsString(rt) ? rt->valuestring :
	    "(root)", issues) + validate(p, resource, issues);
}

int
gw_profiles_validate_text(const struct gw_profiles *p, const char *text,
    size_t len, cJSON *issues)
{
	cJSON *doc;
	int bad;

	if (memchr(text, '\0', len) != NULL ||
	    (doc = cJSON_ParseWithLength(text, len)) == NULL) {
		issue(issues, "(root)", "not valid JSON");
		return 1;
	}
	bad = gw_profiles_validate(p, doc, issues);
	cJSON_Delete(doc);
	return bad;
}

/* A rule must name a path and only known keys, so a typo in a profile
 * file fails the start-up instead of silently checking nothing. */
static bool
rule_ok(const cJSON *rule)
{
	static const char *const keys[] = { "path", "min", "max", "fixed", "in",
		"each", "when", NULL };
	const cJSON *c;

	if (!cJSON_IsObject(rule) ||
	    !cJSON_IsString(cJSON_GetObjectItem(rule, "path")))
		return false;
	for (c = rule->child; c != NULL; c = c->next) {
		bool ok = false;

		for (size_t i = 0; keys[i] != NULL; i++)
			ok = ok || strcmp(c->string, keys[i]) == 0;
		if (!ok)
			return false;
	}
	c = cJSON_GetObjectItem(rule, "when");
	return c == NULL ||
	    (cJSON_IsString(cJSON_GetObjectItem(c, "path")) &&
	    cJSON_GetObjectItem(c, "equals") != NULL);
}

static int
load_file(struct gw_profiles *p, const char *path)
{
	char *text = gw_read_file(path, PROFILE_MAX_BYTES, NULL);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	const cJSON *rt, *url, *rules, *r;
	struct profile *it;

	free(text);
	rt = cJSON_GetObjectItem(doc, "resourceType");
	url = cJSON_GetObjectItem(doc, "profile");
	rules = cJSON_GetObjectItem(doc, "rules");
	if (!cJSON_IsString(rt) || !cJSON_IsString(url) ||
	    !cJSON_IsArray(rules) || p->n == MAX_PROFILES)
		goto err;
	cJSON_ArrayForEach(r, rules)
		if (!rule_ok(r))
			goto err;
	it = &p->items[p->n++];
	it->doc = doc;
	it->resource_type = rt->valuestring;
	it->url = url->valuestring;
	it->rules = (cJSON *)(uintptr_t)rules;
	return GW_OK;
err:
	gw_error("profiles: %s is not a valid profile file", path);
	cJSON_Delete(doc);
	return GW_ERR;
}

static int
load_dir(struct gw_profiles *p, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = GW_OK;

	if (d == NULL) {
		gw_error("profiles: cannot open %s", dir);
		return GW_ERR;
	}
	while (rc == GW_OK && (e = readdir(d)) != NULL) {
		char path[1024];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		/* profiles/ also holds the adapters' code data, which is not
		 * a profile (adapters/common/codedata.c loads it). */
		if (depth == 0 && (strcmp(e->d_name, "categories.json") == 0 ||
		    strcmp(e->d_name, "terminology") == 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth == 0)
			rc = load_dir(p, path, 1);
		else if (S_ISREG(st.st_mode) && has_suffix(e->d_name, ".json"))
			rc = load_file(p, path);
	}
	closedir(d);
	return rc;
}

struct gw_profiles *
gw_profiles_load(const char *dir)
{
	struct gw_profiles *p = gw_calloc(1, sizeof(*p));

	if (load_dir(p, dir, 0) != GW_OK || p->n == 0) {
		if (p->n == 0)
			gw_error("profiles: none found in %s", dir);
		gw_profiles_free(p);
		return NULL;
	}
	return p;
}

void
gw_profiles_free(struct gw_profiles *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->n; i++)
		cJSON_Delete(p->items[i].doc);
	free(p);
}
