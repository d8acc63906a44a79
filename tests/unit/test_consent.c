/*
 * test_consent.c: the decision rules of DESIGN.md §5 on the pure
 * evaluation function: specificity, deny over permit, time handling is the
 * query's (tested in integration), defaults, ETREAT override, exclusions.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "gateway/consent.h"
#include "gateway/gw.h"

static struct gw_consent_rule
rule(const char *ref, bool permit, const char *purpose, const char *country)
{
	struct gw_consent_rule r;

	memset(&r, 0, sizeof(r));
	gw_strlcpy(r.ref, ref, sizeof(r.ref));
	r.permit = permit;
	if (purpose != NULL) {
		gw_strlcpy(r.purposes[0], purpose, sizeof(r.purposes[0]));
		r.npurposes = 1;
	}
	if (country != NULL) {
		gw_strlcpy(r.countries[0], country, sizeof(r.countries[0]));
		r.ncountries = 1;
	}
	return r;
}

static struct gw_consent_rule
default_rule(bool permit, const char *purpose, bool override)
{
	struct gw_consent_rule r = rule("consent_default/FI/x", permit,
	    purpose, NULL);

	r.is_default = true;
	r.emergency_override = override;
	r.research_scope = strcmp(purpose, "HRESCH") == 0;
	return r;
}

static const struct gw_consent_request treat_no = { GW_PURPOSE_TREAT, "NO",
	false };

static void
test_no_rule_uses_default(void)
{
	struct gw_consent_rule def = default_rule(true, "TREAT", false);
	struct gw_consent_decision d;

	gw_consent_evaluate(NULL, 0, &def, &treat_no, &d);
	CU_ASSERT_TRUE(d.permit);
	CU_ASSERT_STRING_EQUAL(d.rule, "consent_default/FI/x");
	def.permit = false;
	gw_consent_evaluate(NULL, 0, &def, &treat_no, &d);
	CU_ASSERT_FALSE(d.permit);
}

static void
test_no_rule_no_default_denies(void)
{
	struct gw_consent_decision d;

	gw_consent_evaluate(NULL, 0, NULL, &treat_no, &d);
	CU_ASSERT_FALSE(d.permit);
	CU_ASSERT_STRING_EQUAL(d.rule, "consent_default/none");
}

static void
test_rule_beats_default(void)
{
	struct gw_consent_rule def = default_rule(true, "TREAT", false);
	struct gw_consent_rule r = rule("consent_rule/1", false, NULL, NULL);
	struct gw_consent_decision d;

	gw_consent_evaluate(&r, 1, &def, &treat_no, &d);
	CU_ASSERT_FALSE(d.permit);
	CU_ASSERT_STRING_EQUAL(d.rule, "consent_rule/1");
}

static void
test_more_specific_wins(void)
{
	struct gw_consent_rule rules[2] = {
		rule("consent_rule/1", false, NULL, NULL),
		rule("consent_rule/2", true, "TREAT", "NO"),
	};
	struct gw_consent_decision d;

	gw_consent_evaluate(rules, 2, NULL, &treat_no, &d);
	CU_ASSERT_TRUE(d.permit);
	CU_ASSERT_STRING_EQUAL(d.rule, "consent_rule/2");
}

static void
test_deny_beats_permit_at_equal_specificity(void)
{
	struct gw_consent_rule rules[2] = {
		rule("consent_rule/1", true, "TREAT", NULL),
		rule("consent_rule/2", false, "TREAT", NULL),
	};
	struct gw_consent_decision d;

	gw_consent_evaluate(rules, 2, NULL, &treat_no, &d);
	CU_ASSERT_FALSE(d.permit);
	CU_ASSERT_STRING_EQUAL(d.rule, "consent_rule/2");
	/* Order must not matter. */
	rules[0] = rule("consent_rule/2", false, "TREAT", NULL);
	rules[1] = rule("consent_rule/1", true, "TREAT", NULL);
	gw_consent_evaluate(rules, 2, NULL, &treat_no, &d);
	CU_ASSERT_FALSE(d.permit);
}

static void
test_rule_for_other_country_or_purpose_ignored(void)
{
	struct gw_consent_rule def = default_rule(true, "TREAT", false);
	struct gw_consent_rule rules[2] = {
		rule("consent_rule/1", false, NULL, "SE"),
		rule("consent_rule/2", false, "PUBHLTH", NULL),
	};
	struct gw_consent_decision d;

	gw_consent_evaluate(rules, 2, &def, &treat_no, &d);
	CU_ASSERT_TRUE(d.permit);
}

static void
test_research_scope_separate(void)
{
	struct gw_consent_rule def = default_rule(true, "TREAT", false);
	struct gw_consent_rule r = rule("consent_rule/1", false, NULL, NULL);
	struct gw_consent_decision d;

	r.research_scope = true; /* an opt-out of research only */
	gw_consent_evaluate(&r, 1, &def, &treat_no, &d);
	CU_ASSERT_TRUE(d.permit);
}

static void
test_etreat_override(void)
{
	struct gw_consent_rule r = rule("consent_rule/1", false, NULL, NULL);
	struct gw_consent_request e = { GW_PURPOSE_ETREAT, "NO", true };
	struct gw_consent_decision d;

	gw_consent_evaluate(&r, 1, NULL, &e, &d);
	CU_ASSERT_FALSE(d.permit); /* rule forbids override */
	r.emergency_override = true;
	gw_consent_evaluate(&r, 1, NULL, &e, &d);
	CU_ASSERT_TRUE(d.permit);
	CU_ASSERT_TRUE(d.break_glass);
	e.emergency_reason = false;
	gw_consent_evaluate(&r, 1, NULL, &e, &d);
	CU_ASSERT_FALSE(d.permit);
	/* TREAT never breaks glass. */
	gw_consent_evaluate(&r, 1, NULL, &treat_no, &d);
	CU_ASSERT_FALSE(d.permit);
	CU_ASSERT_FALSE(d.break_glass);
}

static void
test_etreat_matches_treat_rules(void)
{
	struct gw_consent_rule r = rule("consent_rule/1", false, "TREAT", NULL);
	struct gw_consent_request e = { GW_PURPOSE_ETREAT, "NO", true };
	struct gw_consent_decision d;

	gw_consent_evaluate(&r, 1, NULL, &e, &d);
	CU_ASSERT_FALSE(d.permit);
	CU_ASSERT_STRING_EQUAL(d.rule, "consent_rule/1");
}

static void
test_exclusions_carried(void)
{
	struct gw_consent_rule r = rule("consent_rule/1", true, NULL, NULL);
	struct gw_consent_decision d;

	gw_strlcpy(r.excluded[0], "mental-health", sizeof(r.excluded[0]));
	gw_strlcpy(r.excluded[1], "sexual-health", sizeof(r.excluded[1]));
	r.nexcluded = 2;
	gw_consent_evaluate(&r, 1, NULL, &treat_no, &d);
	CU_ASSERT_TRUE(d.permit);
	CU_ASSERT_TRUE(gw_consent_excludes(&d, "mental-health"));
	CU_ASSERT_TRUE(gw_consent_excludes(&d, "sexual-health"));
	CU_ASSERT_FALSE(gw_consent_excludes(&d, "genetic"));
	CU_ASSERT_FALSE(gw_consent_excludes(&d, NULL));
}

static void
test_purpose_parse(void)
{
	enum gw_purpose p;

	CU_ASSERT_EQUAL(gw_purpose_parse("TREAT", &p), 0);
	CU_ASSERT_EQUAL(p, GW_PURPOSE_TREAT);
	CU_ASSERT_EQUAL(gw_purpose_parse("HRESCH", &p), 0);
	CU_ASSERT_EQUAL(p, GW_PURPOSE_HRESCH);
	CU_ASSERT_NOT_EQUAL(gw_purpose_parse("treat", &p), 0);
	CU_ASSERT_NOT_EQUAL(gw_purpose_parse("", &p), 0);
	CU_ASSERT_NOT_EQUAL(gw_purpose_parse("TREATX", &p), 0);
}

CU_TestInfo test_consent_cases[] = {
	{ "no rule: national default", test_no_rule_uses_default },
	{ "no rule, no default: deny", test_no_rule_no_default_denies },
	{ "a rule beats the default", test_rule_beats_default },
	{ "more specific wins", test_more_specific_wins },
	{ "deny beats permit", test_deny_beats_permit_at_equal_specificity },
	{ "other country/purpose ignored",
	    test_rule_for_other_country_or_purpose_ignored },
	{ "research scope separate", test_research_scope_separate },
	{ "ETREAT override", test_etreat_override },
	{ "ETREAT matches TREAT rules", test_etreat_matches_treat_rules },
	{ "exclusions carried", test_exclusions_carried },
	{ "purpose codes", test_purpose_parse },
	CU_TEST_INFO_NULL,
};
