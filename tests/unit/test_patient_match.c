/*
 * test_patient_match.c: demographic traits on Patient search
 * (gateway/patient_match.c): folding of names for case and diacritics,
 * the syntax check of the parameters, and matching against FHIR Patients.
 */
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "gateway/gw.h"
#include "gateway/patient_match.h"

extern CU_TestInfo test_patient_match_cases[];

static void
assert_fold(const char *in, const char *want)
{
	char out[128];

	CU_ASSERT_EQUAL_FATAL(gw_fold(in, out, sizeof(out)), GW_OK);
	CU_ASSERT_STRING_EQUAL(out, want);
}

static void
test_fold(void)
{
	assert_fold("Hætta", "haetta");
	assert_fold("Iŋgá", "inga");
	assert_fold("Máret", "maret");
	assert_fold("Näkkäläjärvi", "nakkalajarvi");
	assert_fold("NÄKKÄLÄJÄRVI", "nakkalajarvi");
	assert_fold("Søreng", "soreng");
	assert_fold("Åsa", "asa");
	assert_fold("Ødegård", "odegard");
	assert_fold("Ruoŧŧageaidnu", "ruottageaidnu");
	assert_fold("Vuođđogeaidnu", "vuoddogeaidnu");
	assert_fold("Guovžačearru", "guovzacearru");
	assert_fold("Šaldi", "saldi");
	assert_fold("Wiśniewska", "wisniewska");
	assert_fold("Stankevičiūtė", "stankeviciute");
	assert_fold("Łukasz", "lukasz");
	assert_fold("Straße", "strasse");
	assert_fold("Anna-Liisa", "annaliisa");
	assert_fold("O'Neill", "oneill");
	assert_fold("O\xe2\x80\x99Neill", "oneill"); /* U+2019 */
	/* Decomposed: a + combining acute. */
	assert_fold("Ma\xcc\x81ret", "maret");
	/* Skolt Sámi. */
	assert_fold("Ǧǥǩʒǯ", "ggkzz");
	/* Other scripts are kept as written. */
	assert_fold("Σοφία", "Σοφία");
	assert_fold("", "");
}

static void
test_fold_refuses(void)
{
	char out[8];

	CU_ASSERT_EQUAL(gw_fold("\xc3", out, sizeof(out)), GW_ERR);
	CU_ASSERT_EQUAL(gw_fold("\xc0\xaf", out, sizeof(out)), GW_ERR);
	CU_ASSERT_EQUAL(gw_fold("\xed\xa0\x80", out, sizeof(out)), GW_ERR);
	CU_ASSERT_EQUAL(gw_fold("abcdefghij", out, sizeof(out)), GW_ERR);
	CU_ASSERT_EQUAL(gw_fold("abc", out, 0), GW_ERR);
}

static void
test_check(void)
{
	const char *why = NULL;
	struct gw_traits t = {0};

	CU_ASSERT_FALSE(gw_traits_any(&t));
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_OK);
	t.family = "Hætta";
	t.given = "Iŋgá Máret";
	t.birthdate = "1999-01-02";
	t.gender = "female";
	CU_ASSERT_TRUE(gw_traits_any(&t));
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_OK);
	t.birthdate = "eq1999";
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_OK);
	t.birthdate = "1999-01";
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_OK);
	{
		static const char *const bad_dates[] = {"1999-1", "99-01-02",
		    "1999-01-02T00:00:00Z", "ge1999", "1999/01/02", "abcd"};

		for (size_t i = 0; i < GW_ARRAY_LEN(bad_dates); i++) {
			t.birthdate = bad_dates[i];
			why = NULL;
			CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_ERR);
			CU_ASSERT_PTR_NOT_NULL(why);
		}
	}
	t.birthdate = NULL;
	t.gender = "woman";
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_ERR);
	t.gender = NULL;
	t.family = "";
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_ERR);
	t.family = "Hætta,Sara";
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_ERR);
	t.family = "\xff";
	CU_ASSERT_EQUAL(gw_traits_check(&t, &why), GW_ERR);
}

static cJSON *
patient(void)
{
	return cJSON_Parse(
	    "{\"resourceType\":\"Patient\",\"id\":\"no-x\","
	    "\"name\":[{\"use\":\"official\",\"family\":\"Hætta\","
	    "\"given\":[\"Iŋgá\",\"Máret\"]},{\"use\":\"usual\","
	    "\"family\":\"Hætta\",\"given\":[\"Máret\"]}],"
	    "\"gender\":\"female\",\"birthDate\":\"1999-01-02\"}");
}

static void
test_match(void)
{
	static const struct {
		const char *family, *given, *birthdate, *gender;
		bool match;
	} cases[] = {
	    {NULL, NULL, NULL, NULL, true},
	    {"Hætta", NULL, NULL, NULL, true},
	    {"haetta", NULL, NULL, NULL, true},
	    {"HÆTTA", NULL, NULL, NULL, true},
	    {"Hatta", NULL, NULL, NULL, false},
	    {"Sara", NULL, NULL, NULL, false},
	    {"Hætt", NULL, NULL, NULL, false}, /* no prefix match */
	    {NULL, "Inga", NULL, NULL, true},
	    {NULL, "máret", NULL, NULL, true},
	    {NULL, "Iŋgá Máret", NULL, NULL, true},
	    {NULL, "Maret Inga", NULL, NULL, true},
	    {NULL, "Inga Biret", NULL, NULL, false},
	    {NULL, "Biret", NULL, NULL, false},
	    {NULL, "   ", NULL, NULL, false},
	    {NULL, NULL, "1999", NULL, true},
	    {NULL, NULL, "1999-01", NULL, true},
	    {NULL, NULL, "1999-01-02", NULL, true},
	    {NULL, NULL, "eq1999-01-02", NULL, true},
	    {NULL, NULL, "1999-01-03", NULL, false},
	    {NULL, NULL, "1998", NULL, false},
	    {NULL, NULL, "1999-02", NULL, false},
	    {NULL, NULL, NULL, "female", true},
	    {NULL, NULL, NULL, "male", false},
	    {"Hætta", "Inga", "1999", "female", true},
	    {"Hætta", "Inga", "1999", "male", false},
	};
	cJSON *p = patient();

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
		const struct gw_traits t = {cases[i].family, cases[i].given,
		    cases[i].birthdate, cases[i].gender};

		CU_ASSERT_EQUAL(gw_traits_match(&t, p), cases[i].match);
	}
	{
		const struct gw_traits t = {.family = "Hætta"};

		CU_ASSERT_FALSE(gw_traits_match(&t, NULL));
	}
	cJSON_Delete(p);
	/* A Patient without a birth date or name matches no such trait. */
	p = cJSON_Parse("{\"resourceType\":\"Patient\",\"id\":\"x\"}");
	{
		const struct gw_traits a = {.family = "Hætta"};
		const struct gw_traits b = {.birthdate = "1999"};
		const struct gw_traits c = {.gender = "female"};

		CU_ASSERT_FALSE(gw_traits_match(&a, p));
		CU_ASSERT_FALSE(gw_traits_match(&b, p));
		CU_ASSERT_FALSE(gw_traits_match(&c, p));
	}
	cJSON_Delete(p);
}

CU_TestInfo test_patient_match_cases[] = {
    {"fold case and diacritics", test_fold},
    {"fold refuses bad UTF-8 and small buffers", test_fold_refuses},
    {"parameter syntax", test_check},
    {"match against a Patient", test_match},
    CU_TEST_INFO_NULL,
};
