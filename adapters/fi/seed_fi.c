/*
 * seed_fi.c: the synthetic Finnish registry.  Who is ill with what, and
 * when, comes from the shared engine (adapters/common/synth.c); this file
 * gives people Finnish identities (HETU, names, home municipality, mother
 * tongue), names the engine's conditions, medicines, allergens, vaccines
 * and tests in Finnish vocabulary (ICD-10, ATC, VNR, the Finnish laboratory
 * nomenclature), and writes fi_rekisteri's six tables with COPY
 * (adapters/common/seed_common.c: one transaction, constant memory).
 *
 * HETUs: index -> (birth day, individual number) is an affine permutation
 * of the 36,525 days of 1925-2024 times the 100 test-range numbers 900-999,
 * so codes are unique without remembering them (at most 3,652,500 people)
 * and no real person's code is ever produced.  Century signs vary,
 * including the 2023 ones.
 *
 * Fixed people the tests and the quickstart can rely on, all alive adults
 * (born 1955, 1966, 1977, 1988): index 0 has records in all five sections
 * and nothing sensitive; index 1 has depression (F32.9, mental-health);
 * index 2 alcohol dependence (F10.2, substance-abuse); index 3 HIV disease
 * (B20, sexual-health).  Clinical catalogues below are synthetic demo data:
 * lab nomenclature numbers are illustrative, not an authoritative extract.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "adapters/adapter.h"
#include "adapters/common/civil.h"
#include "adapters/common/seed_common.h"
#include "adapters/common/synth.h"
#include "adapters/fi/adapter_fi.h"
#include "adapters/fi/hetu.h"
#include "gateway/gw.h"

#define FIRST_YEAR 1925
#define BIRTH_DAYS 36525L                /* 1925-01-01 .. 2024-12-31 */
#define INDIVIDUALS 100L                 /* 900-999 */
#define SLOTS (BIRTH_DAYS * INDIVIDUALS) /* unique HETUs available */
#define SLOT_STEP 400003L  /* coprime with SLOTS; ~11 years per index */
#define SLOT_ZERO 1102955L /* index 0: 1955-03-14, individual 955 */

enum lang { LANG_FI, LANG_SV, LANG_SE };
static const char *const lang_codes[] = {"fi", "sv", "se"};

/* ---- people and places ---- */

static const struct municipality {
	const char *code, *name, *postal, *post_office;
	int weight[3]; /* by enum lang of the people who live there */
} municipalities[] = {
    {"091", "Helsinki", "00100", "Helsinki", {120, 25, 0}},
    {"049", "Espoo", "02100", "Espoo", {55, 15, 0}},
    {"092", "Vantaa", "01300", "Vantaa", {45, 5, 0}},
    {"837", "Tampere", "33100", "Tampere", {45, 0, 0}},
    {"853", "Turku", "20100", "Turku", {35, 8, 0}},
    {"564", "Oulu", "90100", "Oulu", {40, 0, 0}},
    {"179", "Jyväskylä", "40100", "Jyväskylä", {28, 0, 0}},
    {"398", "Lahti", "15100", "Lahti", {22, 0, 0}},
    {"297", "Kuopio", "70100", "Kuopio", {22, 0, 0}},
    {"609", "Pori", "28100", "Pori", {15, 0, 0}},
    {"167", "Joensuu", "80100", "Joensuu", {14, 0, 0}},
    {"698", "Rovaniemi", "96100", "Rovaniemi", {12, 0, 0}},
    {"743", "Seinäjoki", "60100", "Seinäjoki", {12, 0, 0}},
    {"109", "Hämeenlinna", "13100", "Hämeenlinna", {13, 0, 0}},
    {"020", "Akaa", "37800", "Akaa", {4, 0, 0}},
    {"905", "Vaasa", "65100", "Vaasa", {6, 20, 0}},
    {"638", "Porvoo", "06100", "Porvoo", {4, 15, 0}},
    {"445", "Parainen", "21600", "Parainen", {1, 10, 0}},
    {"478", "Maarianhamina", "22100", "Maarianhamina", {0, 12, 0}},
    {"148", "Inari", "99800", "Ivalo", {0, 0, 40}},
    {"890", "Utsjoki", "99980", "Utsjoki", {0, 0, 25}},
    {"047", "Enontekiö", "99400", "Enontekiö", {0, 0, 20}},
    {"758", "Sodankylä", "99600", "Sodankylä", {0, 0, 15}},
};

static const char *const surnames_fi[] = {"Virtanen", "Korhonen", "Mäkinen",
    "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen",
    "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen",
    "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen",
    "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen",
    "Lahtinen", "Ahonen", "Kärkkäinen", "Räsänen", "Väisänen", "Pöyhönen"};
static const char *const male_fi[] = {"Juhani", "Johannes", "Mikael", "Olavi",
    "Onni", "Matti", "Timo", "Antero", "Kalevi", "Tapani", "Eino", "Elias",
    "Väinö", "Leo", "Mikko", "Jari", "Pekka", "Ilmari", "Oskari", "Eero",
    "Jukka", "Veikko", "Ville-Pekka"};
static const char *const female_fi[] = {"Maria", "Helena", "Johanna", "Anneli",
    "Kaarina", "Marjatta", "Aino", "Sofia", "Emilia", "Tuula", "Ritva", "Päivi",
    "Sari", "Aada", "Eevi", "Hilla", "Liisa", "Kristiina", "Elina",
    "Anna-Liisa", "Siiri", "Pirjo"};
static const char *const surnames_sv[] = {"Lindholm", "Johansson", "Nyström",
    "Karlsson", "Lindqvist", "Andersson", "Holmström", "Sjöberg", "Åberg",
    "Grönroos", "Lindroos", "Wikström"};
static const char *const male_sv[] = {"Erik", "Johan", "Anders", "Mikael",
    "Henrik", "Lars", "Fredrik", "Carl", "Gustav"};
static const char *const female_sv[] = {"Anna", "Maria", "Sofia", "Linnéa",
    "Ebba", "Ingrid", "Kristina", "Elin", "Åsa"};
static const char *const surnames_se[] = {"Aikio", "Valle", "Magga",
    "Näkkäläjärvi", "Guttorm", "Länsman", "Sara", "Morottaja", "Kitti",
    "Vuolab", "Jomppanen", "Labba"};
static const char *const male_se[] = {
    "Ánde", "Niillas", "Máhtte", "Jovnna", "Piera", "Ovllá", "Heikki"};
static const char *const female_se[] = {
    "Máret", "Sunná", "Elle", "Ánne", "Inga", "Biret", "Kirsti"};
static const char *const streets[] = {"Mannerheimintie", "Hämeentie",
    "Koulukatu", "Kirkkotie", "Rantatie", "Myllytie", "Koivukuja", "Asemakatu",
    "Puistokatu", "Kauppakatu", "Pihlajatie", "Sepänkatu", "Tunturitie",
    "Järvitie", "Männikkötie"};

static const struct name_set {
	const char *const *surnames, *const *male, *const *female;
	long nsurnames, nmale, nfemale;
} name_sets[] = {
    [LANG_FI] = {surnames_fi, male_fi, female_fi,
        (long)GW_ARRAY_LEN(surnames_fi), (long)GW_ARRAY_LEN(male_fi),
        (long)GW_ARRAY_LEN(female_fi)},
    [LANG_SV] = {surnames_sv, male_sv, female_sv,
        (long)GW_ARRAY_LEN(surnames_sv), (long)GW_ARRAY_LEN(male_sv),
        (long)GW_ARRAY_LEN(female_sv)},
    [LANG_SE] = {surnames_se, male_se, female_se,
        (long)GW_ARRAY_LEN(surnames_se), (long)GW_ARRAY_LEN(male_se),
        (long)GW_ARRAY_LEN(female_se)},
};

/* ---- the engine's catalogue in Finnish ---- */

static const struct {
	const char *icd10, *name;
} diagnoses[GW_SYNTH_DX_COUNT] = {
    [GW_SYNTH_DX_DIABETES2] = {"E11.9",
        "Tyypin 2 diabetes ilman komplikaatioita"},
    [GW_SYNTH_DX_HYPERTENSION] = {"I10", "Essentiaalinen verenpainetauti"},
    [GW_SYNTH_DX_ASTHMA] = {"J45.9", "Astma, määrittämätön"},
    [GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA] = {"E78.0",
        "Puhdas hyperkolesterolemia"},
    [GW_SYNTH_DX_ATRIAL_FIBRILLATION] = {"I48.9",
        "Eteisvärinä tai eteislepatus, määrittämätön"},
    [GW_SYNTH_DX_KNEE_ARTHROSIS] = {"M17.1",
        "Muu primaarinen polven nivelrikko"},
    [GW_SYNTH_DX_REFLUX] = {"K21.9",
        "Refluksitauti ilman ruokatorven tulehdusta"},
    [GW_SYNTH_DX_HYPOTHYROIDISM] = {"E03.9",
        "Kilpirauhasen vajaatoiminta, määrittämätön"},
    [GW_SYNTH_DX_MIGRAINE] = {"G43.9", "Migreeni, määrittämätön"},
    [GW_SYNTH_DX_UPPER_RESPIRATORY_INFECTION] = {"J06.9",
        "Äkillinen ylähengitystieinfektio, määrittämätön"},
    [GW_SYNTH_DX_URINARY_INFECTION] = {"N39.0",
        "Virtsatieinfektio, paikka määrittämätön"},
    [GW_SYNTH_DX_RADIUS_FRACTURE] = {"S52.5", "Värttinäluun alaosan murtuma"},
    [GW_SYNTH_DX_DEPRESSION] = {"F32.9", "Masennustila, määrittämätön"},
    [GW_SYNTH_DX_ALCOHOL_DEPENDENCE] = {"F10.2", "Alkoholiriippuvuus"},
    [GW_SYNTH_DX_HIV] = {"B20",
        "HIV-tauti, josta on seurauksena infektio- tai loistauti"},
    [GW_SYNTH_DX_CHLAMYDIA] = {"A56.0",
        "Alempien virtsa- ja sukupuolielinten klamydiainfektio"},
};

static const struct {
	const char *atc, *vnr, *product, *strength, *dosage;
} medications[GW_SYNTH_MED_COUNT] = {
    [GW_SYNTH_MED_METFORMIN] = {"A10BA02", NULL, "Metforem", "500 mg",
        "1 tabletti 2 kertaa päivässä aterian yhteydessä"},
    /* The VNR of Cardace 5 mg as in the FI Base medication example. */
    [GW_SYNTH_MED_RAS_BLOCKER] = {"C09AA05", "403048", "Cardace", "5 mg",
        "1 tabletti kerran päivässä"},
    [GW_SYNTH_MED_AMLODIPINE] = {"C08CA01", NULL, "Norvasc", "5 mg",
        "1 tabletti aamulla"},
    [GW_SYNTH_MED_SALBUTAMOL] = {"R03AC02", NULL, "Ventoline Evohaler",
        "0,1 mg/annos", "1–2 inhalaatiota tarvittaessa"},
    [GW_SYNTH_MED_BUDESONIDE] = {"R03BA02", NULL, "Pulmicort Turbuhaler",
        "200 mikrog/annos", "1 inhalaatio 2 kertaa päivässä"},
    [GW_SYNTH_MED_ATORVASTATIN] = {"C10AA05", NULL, "Lipitor", "20 mg",
        "1 tabletti illalla"},
    [GW_SYNTH_MED_APIXABAN] = {"B01AF02", NULL, "Eliquis", "5 mg",
        "1 tabletti 2 kertaa päivässä"},
    [GW_SYNTH_MED_METOPROLOL] = {"C07AB02", NULL, "Seloken ZOC", "47,5 mg",
        "1 tabletti kerran päivässä"},
    [GW_SYNTH_MED_LEVOTHYROXINE] = {"H03AA01", NULL, "Thyroxin", "100 mikrog",
        "1 tabletti aamulla tyhjään vatsaan"},
    [GW_SYNTH_MED_PPI] = {"A02BC02", NULL, "Somac", "40 mg",
        "1 tabletti aamulla"},
    [GW_SYNTH_MED_PARACETAMOL] = {"N02BE01", NULL, "Panadol Forte", "1 g",
        "1 tabletti tarvittaessa, enintään 3 kertaa päivässä"},
    [GW_SYNTH_MED_SUMATRIPTAN] = {"N02CC01", NULL, "Imigran", "50 mg",
        "1 tabletti kohtauksen alkaessa"},
    [GW_SYNTH_MED_UTI_ANTIBIOTIC] = {"J01EA01", NULL, "Trimetin", "160 mg",
        "1 tabletti 2 kertaa päivässä 3 päivän ajan"},
    [GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC] = {"J01FA10", NULL, "Azithromycin",
        "500 mg", "2 tablettia kerta-annoksena"},
    [GW_SYNTH_MED_IBUPROFEN] = {"M01AE01", NULL, "Burana", "400 mg",
        "1 tabletti tarvittaessa, enintään 3 kertaa päivässä"},
    [GW_SYNTH_MED_VITAMIN_D] = {"A11CC05", NULL, "Devisol", "20 mikrog",
        "1 tabletti päivässä"},
};

static const struct {
	const char *code, *name;
} allergens[GW_SYNTH_AG_COUNT] = {
    [GW_SYNTH_AG_PENICILLIN_V] = {"J01CE02", "fenoksimetyylipenisilliini"},
    [GW_SYNTH_AG_AMOXICILLIN] = {"J01CA04", "amoksisilliini"},
    [GW_SYNTH_AG_IBUPROFEN] = {"M01AE01", "ibuprofeeni"},
    [GW_SYNTH_AG_ASA] = {"N02BA01", "asetyylisalisyylihappo"},
    [GW_SYNTH_AG_SULFAMETHOXAZOLE_TRIMETHOPRIM] = {"J01EE01",
        "sulfametoksatsoli ja trimetopriimi"},
    [GW_SYNTH_AG_PEANUT] = {"762952008", "maapähkinä"},
    [GW_SYNTH_AG_LATEX] = {"111088007", "lateksi"},
};
static const char *const reactions[GW_SYNTH_RX_COUNT] = {
    [GW_SYNTH_RX_URTICARIA] = "urtikaria",
    [GW_SYNTH_RX_RASH] = "ihottuma",
    [GW_SYNTH_RX_NAUSEA] = "pahoinvointi",
    [GW_SYNTH_RX_ANGIOEDEMA] = "angioedeema",
    [GW_SYNTH_RX_DYSPNOEA] = "hengenahdistus",
    [GW_SYNTH_RX_ANAPHYLAXIS] = "anafylaksia",
};
static const char *const severities[] = {
    [GW_SYNTH_MILD] = "lievä",
    [GW_SYNTH_MODERATE] = "kohtalainen",
    [GW_SYNTH_SEVERE] = "vakava",
};
static const char *const criticalities[] = {
    [GW_SYNTH_CRIT_LOW] = "matala",
    [GW_SYNTH_CRIT_HIGH] = "korkea",
    [GW_SYNTH_CRIT_UNABLE_TO_ASSESS] = "ei arvioitavissa",
};

static const struct {
	const char *atc, *name, *lot_prefix;
} vaccines[GW_SYNTH_VX_COUNT] = {
    [GW_SYNTH_VX_INFLUENZA] = {"J07BB02", "Vaxigrip Tetra", "VT"},
    [GW_SYNTH_VX_COVID] = {"J07BX03", "Comirnaty", "FE"},
    [GW_SYNTH_VX_DIPHTHERIA_TETANUS] = {"J07AM51", "diTeBooster", "DT"},
    [GW_SYNTH_VX_MMR] = {"J07BD52", "M-M-RVAXPRO", "MR"},
    [GW_SYNTH_VX_HEPATITIS_B] = {"J07BC01", "Engerix-B", "EB"},
    [GW_SYNTH_VX_HPV] = {"J07BM03", "Gardasil 9", "GA"},
    [GW_SYNTH_VX_ROTAVIRUS] = {"J07BH01", "Rotarix", "RX"},
};

/* No LOINC mapping in the registry for TSH and ALAT. */
static const struct {
	const char *code, *abbr, *name, *loinc, *unit;
} lab_tests[GW_SYNTH_LAB_COUNT] = {
    [GW_SYNTH_LAB_CREATININE] = {"2143", "P-Krea", "Kreatiniini", "14682-9",
        "umol/L"},
    [GW_SYNTH_LAB_HBA1C] = {"4770", "B-HbA1c", "Hemoglobiini A1c", "59261-8",
        "mmol/mol"},
    [GW_SYNTH_LAB_LDL] = {"4599", "fP-Kol-LDL", "LDL-kolesteroli", "22748-8",
        "mmol/L"},
    [GW_SYNTH_LAB_CHOLESTEROL] = {"4515", "fP-Kol", "Kolesteroli", "14647-2",
        "mmol/L"},
    [GW_SYNTH_LAB_HDL] = {"4516", "fP-Kol-HDL", "HDL-kolesteroli", "14646-4",
        "mmol/L"},
    [GW_SYNTH_LAB_TRIGLYCERIDES] = {"4568", "fP-Trigly", "Triglyseridit",
        "14927-8", "mmol/L"},
    [GW_SYNTH_LAB_GLUCOSE] = {"1468", "fP-Gluk", "Glukoosi", "14771-0",
        "mmol/L"},
    [GW_SYNTH_LAB_POTASSIUM] = {"3085", "P-K", "Kalium", "2823-3", "mmol/L"},
    [GW_SYNTH_LAB_SODIUM] = {"3099", "P-Na", "Natrium", "2951-2", "mmol/L"},
    [GW_SYNTH_LAB_HAEMOGLOBIN] = {"1552", "B-Hb", "Hemoglobiini", "718-7",
        "g/L"},
    [GW_SYNTH_LAB_CRP] = {"4520", "P-CRP", "C-reaktiivinen proteiini", "1988-5",
        "mg/L"},
    [GW_SYNTH_LAB_TSH] = {"3222", "P-TSH", "Tyreotropiini", NULL, "m[IU]/L"},
    [GW_SYNTH_LAB_ALT] = {"1024", "P-ALAT", "Alaniiniaminotransferaasi", NULL,
        "U/L"},
};

static const struct gw_synth_country fi_country =
    {
        .seed_base = 0x46494e4c414e4421ULL, /* "FINLAND!" */
        .fixed_people = 4,
        .course_days =
            {
                [GW_SYNTH_MED_UTI_ANTIBIOTIC] = 3,
                [GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC] = 1,
                [GW_SYNTH_MED_IBUPROFEN] = 10,
            },
        /* Rotavirus from September 2009, MMR since 1982, HPV for girls born
         * 2002 and later from November 2013, boys born 2009 and later. */
        .rota_born_from = {2009, 9, 1},
        .mmr_born_from = {1982, 1, 1},
        .hpv_start = {2013, 11, 1},
        .hpv_girls_from = 2002,
        .hpv_boys_from = 2009,
        .labs =
            {
                [GW_SYNTH_LAB_CREATININE] = {.decimals = 0,
                    .ref_low = 50,
                    .ref_high = 100,
                    .mean = 78,
                    .spread = 22,
                    .by_sex = true,
                    .sex_mean = {78, 66},
                    .sex_low = {60, 50},
                    .sex_high = {105, 90}},
                [GW_SYNTH_LAB_HBA1C] = {.decimals = 0,
                    .ref_low = 20,
                    .ref_high = 42,
                    .mean = 36,
                    .spread = 5,
                    .has_effect = true,
                    .effect_dx = GW_SYNTH_DX_DIABETES2,
                    .effect_mean = 55,
                    .effect_spread = 14},
                [GW_SYNTH_LAB_LDL] = {.decimals = 1,
                    .ref_low = -1,
                    .ref_high = 30,
                    .mean = 31,
                    .spread = 9,
                    .has_effect = true,
                    .effect_dx = GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA,
                    .effect_add = true,
                    .effect_mean = 9},
                [GW_SYNTH_LAB_CHOLESTEROL] = {.decimals = 1,
                    .ref_low = -1,
                    .ref_high = 50,
                    .mean = 51,
                    .spread = 9,
                    .has_effect = true,
                    .effect_dx = GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA,
                    .effect_add = true,
                    .effect_mean = 10},
                [GW_SYNTH_LAB_HDL] = {.decimals = 1,
                    .ref_low = 10,
                    .ref_high = -1,
                    .mean = 15,
                    .spread = 4},
                [GW_SYNTH_LAB_TRIGLYCERIDES] = {.decimals = 1,
                    .ref_low = -1,
                    .ref_high = 17,
                    .mean = 13,
                    .spread = 6},
                [GW_SYNTH_LAB_GLUCOSE] = {.decimals = 1,
                    .ref_low = 40,
                    .ref_high = 60,
                    .mean = 55,
                    .spread = 6,
                    .has_effect = true,
                    .effect_dx = GW_SYNTH_DX_DIABETES2,
                    .effect_mean = 80,
                    .effect_spread = 25},
                [GW_SYNTH_LAB_POTASSIUM] = {.decimals = 1,
                    .ref_low = 33,
                    .ref_high = 49,
                    .mean = 41,
                    .spread = 3},
                [GW_SYNTH_LAB_SODIUM] = {.decimals = 0,
                    .ref_low = 137,
                    .ref_high = 145,
                    .mean = 140,
                    .spread = 3},
                [GW_SYNTH_LAB_HAEMOGLOBIN] = {.decimals = 0,
                    .ref_low = 117,
                    .ref_high = 167,
                    .mean = 142,
                    .spread = 14,
                    .by_sex = true,
                    .sex_mean = {150, 134},
                    .sex_low = {134, 117},
                    .sex_high = {167, 155}},
                [GW_SYNTH_LAB_CRP] = {.decimals = 0,
                    .ref_low = -1,
                    .ref_high = 10,
                    .mean = 4,
                    .spread = 4},
                [GW_SYNTH_LAB_TSH] = {.decimals = 2,
                    .ref_low = 50,
                    .ref_high = 360,
                    .mean = 180,
                    .spread = 80,
                    .has_effect = true,
                    .effect_dx = GW_SYNTH_DX_HYPOTHYROIDISM,
                    .effect_mean = 450,
                    .effect_spread = 200},
                [GW_SYNTH_LAB_ALT] = {.decimals = 0,
                    .ref_low = 10,
                    .ref_high = 70,
                    .mean = 28,
                    .spread = 12},
            },
};

/* ---- people ---- */

struct person {
	struct gw_synth_person s;
	int individual;
	char hetu[12];
	enum lang lang;
	const struct municipality *kunta;
};

static int
municipality_weight(long i, int group)
{
	return municipalities[i].weight[group];
}

/* Century sign variant: mostly the classic sign, some 2023 ones. */
static int
pick_sign_variant(struct gw_seed_rng *r)
{
	static const int cumulative[] = {880, 920, 950, 970, 990, 1000};
	long x = gw_seed_below(r, 1000);

	for (int v = 0; v < 6; v++)
		if (x < cumulative[v])
			return v;
	return 0;
}

/* Everything about person index that more than one table needs. */
static void
make_person(long index, void *out, const void *arg)
{
	struct person *p = out;
	struct gw_seed_rng r;
	long slot, day, y;
	int m, d;

	(void)arg;
	memset(p, 0, sizeof(*p));
	gw_seed_rng_init(&r, fi_country.seed_base, index, GW_SYNTH_ST_PERSON);
	slot =
	    (long)(((uint64_t)index * SLOT_STEP + SLOT_ZERO) % (uint64_t)SLOTS);
	day = gw_civil_days(FIRST_YEAR, 1, 1) + slot / INDIVIDUALS;
	p->individual = 900 + (int)(slot % INDIVIDUALS);
	gw_civil_from_days(day, &y, &m, &d);
	(void)adapter_fi_hetu_make(
	    (int)y, m, d, p->individual, pick_sign_variant(&r), p->hetu);

	if (gw_seed_permille(&r, 40)) {
		p->kunta = &municipalities[gw_seed_weighted(&r,
		    (long)GW_ARRAY_LEN(municipalities), municipality_weight,
		    LANG_SE)];
		p->lang = gw_seed_permille(&r, 450) ? LANG_SE : LANG_FI;
	} else if (gw_seed_permille(&r, 55)) {
		p->kunta = &municipalities[gw_seed_weighted(&r,
		    (long)GW_ARRAY_LEN(municipalities), municipality_weight,
		    LANG_SV)];
		p->lang = LANG_SV;
	} else {
		p->kunta = &municipalities[gw_seed_weighted(&r,
		    (long)GW_ARRAY_LEN(municipalities), municipality_weight,
		    LANG_FI)];
		p->lang = LANG_FI;
	}
	gw_synth_life(
	    &fi_country, index, day, p->individual % 2 == 1 ? 1 : 2, &r, &p->s);
}

/* ---- rows, one writer per table ---- */

static void
rows_henkilo(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	const struct gw_seed_key *k = arg;
	const struct name_set *ns = &name_sets[p->lang];
	const char *const *given_pool = p->s.sex == 1 ? ns->male : ns->female;
	long npool = p->s.sex == 1 ? ns->nmale : ns->nfemale;
	const char *surname, *picked[3];
	char token[32], given[160], street[96];
	struct gw_seed_rng r;
	long secs;
	int ngiven;

	gw_seed_rng_init(
	    &r, fi_country.seed_base, p->s.index, GW_SYNTH_ST_NAME);
	surname = ns->surnames[gw_seed_below(&r, ns->nsurnames)];
	/* Sámi-area families with a Sámi surname but Finnish as mother
	 * tongue are common. */
	if (p->lang == LANG_FI && p->kunta->weight[LANG_SE] > 0 &&
	    gw_seed_permille(&r, 300))
		surname = GW_SEED_PICK(&r, surnames_se);
	ngiven = gw_seed_given_names(
	    &r, given_pool, npool, picked, given, sizeof(given));

	if (gw_adapter_token(
	        k->key, k->len, "FI", p->hetu, token, sizeof(token)) != GW_OK) {
		gw_error("fi seed: cannot compute the id token");
		c->failed = true;
		return;
	}

	gw_seed_putf(c, "%ld", p->s.id);
	gw_seed_put(c, p->hetu);
	gw_seed_put(c, token);
	gw_seed_put(c, surname);
	gw_seed_put(c, given);
	if (gw_seed_permille(&r, 850))
		gw_seed_put(c, picked[0]);
	else if (ngiven > 1 && gw_seed_permille(&r, 660))
		gw_seed_put(c, picked[1]);
	else
		gw_seed_put(c, NULL);
	gw_seed_putf(c, "%d", p->s.sex);
	gw_seed_put_date(c, p->s.birth);
	gw_seed_put(c, p->kunta->code);
	gw_seed_put(c, p->kunta->name);
	/* Draws one statement at a time: the order of function arguments is
	 * unspecified in C, and the data must not depend on the compiler.
	 * (The order is the one the first seeder had under GCC, so existing
	 * registries are reproduced.) */
	if (gw_seed_permille(&r, 350)) {
		long flat = gw_seed_range(&r, 1, 40);
		char stair = (char)('A' + gw_seed_below(&r, 3));
		long number = gw_seed_range(&r, 1, 120);

		snprintf(street, sizeof(street), "%s %ld %c %ld",
		    GW_SEED_PICK(&r, streets), number, stair, flat);
	} else {
		long number = gw_seed_range(&r, 1, 120);

		snprintf(street, sizeof(street), "%s %ld",
		    GW_SEED_PICK(&r, streets), number);
	}
	gw_seed_put(c, street);
	gw_seed_put(c, p->kunta->postal);
	gw_seed_put(c, p->kunta->post_office);
	if (gw_seed_permille(&r, 750)) {
		char phone[24];
		long number = gw_seed_below(&r, 10000000);

		snprintf(phone, sizeof(phone), "+358%s%07ld",
		    gw_seed_permille(&r, 500) ? "40" : "50", number);
		gw_seed_put(c, phone);
	} else {
		gw_seed_put(c, NULL);
	}
	gw_seed_put(c, lang_codes[p->lang]);
	gw_seed_put_date(c, p->s.death);
	secs = gw_seed_below(&r, 86400);
	gw_seed_put_timestamp(c,
	    gw_seed_range(
	        &r, gw_civil_days(2019, 1, 1), gw_synth_reference_day()),
	    secs);
	gw_seed_row_end(c);
}

static void
rows_diagnoosi(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_diagnosis dx[GW_SYNTH_DX_COUNT];
	int n = gw_synth_diagnoses(&fi_country, &p->s, dx);

	(void)arg;
	for (int i = 0; i < n; i++) {
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, diagnoses[dx[i].dx].icd10);
		gw_seed_put(c, diagnoses[dx[i].dx].name);
		gw_seed_put(c, dx[i].chronic ? "aktiivinen" : "ratkaistu");
		gw_seed_put(c, dx[i].chronic ? "pysyvä" : "tilapäinen");
		gw_seed_put_date(c, dx[i].onset);
		gw_seed_put_timestamp(c, dx[i].recorded, dx[i].recorded_s);
		gw_seed_row_end(c);
	}
}

static void
rows_laakitys(struct gw_seed_copy *c, const void *person, const void *arg)
{
	static const char *const states[] = {
	    [GW_SYNTH_ACTIVE] = "aktiivinen",
	    [GW_SYNTH_COMPLETED] = "lopetettu",
	    [GW_SYNTH_STOPPED] = "keskeytetty",
	};
	const struct person *p = person;
	struct gw_synth_medication meds[GW_SYNTH_MAX_MEDICATIONS];
	int n = gw_synth_medications(&fi_country, &p->s, meds);

	(void)arg;
	for (int i = 0; i < n; i++) {
		const struct gw_synth_medication *m = &meds[i];

		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, medications[m->med].atc);
		gw_seed_put(c, medications[m->med].vnr);
		gw_seed_put(c, medications[m->med].product);
		gw_seed_put(c, medications[m->med].strength);
		gw_seed_put(c, medications[m->med].dosage);
		gw_seed_put_date(c, m->start);
		gw_seed_put_date(c, m->stop);
		gw_seed_put(c, states[m->status]);
		gw_seed_row_end(c);
	}
}

static void
rows_allergia(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_allergy al[GW_SYNTH_MAX_ALLERGIES];
	int n = gw_synth_allergies(&fi_country, &p->s, al);

	(void)arg;
	for (int i = 0; i < n; i++) {
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, allergens[al[i].allergen].code);
		gw_seed_put(c, allergens[al[i].allergen].name);
		gw_seed_put(c, reactions[al[i].reaction]);
		gw_seed_put(
		    c, severities[gw_synth_reaction_severity(al[i].reaction)]);
		gw_seed_put(c, criticalities[gw_synth_reaction_criticality(
		                   al[i].reaction)]);
		gw_seed_put_date(c, al[i].day);
		gw_seed_row_end(c);
	}
}

static void
rows_rokotus(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_vaccination vx[GW_SYNTH_MAX_VACCINATIONS];
	int n = gw_synth_vaccinations(&fi_country, &p->s, vx);

	(void)arg;
	for (int i = 0; i < n; i++) {
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, vaccines[vx[i].vaccine].atc);
		gw_seed_put(c, vaccines[vx[i].vaccine].name);
		gw_seed_put_date(c, vx[i].day);
		gw_seed_putf(c, "%d", vx[i].dose);
		gw_seed_putf(c, "%s%04ld", vaccines[vx[i].vaccine].lot_prefix,
		    vx[i].lot);
		gw_seed_row_end(c);
	}
}

static void
rows_laboratoriotulos(
    struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_lab_result lr[GW_SYNTH_MAX_LABS];
	int n = gw_synth_labs(&fi_country, &p->s, lr);

	(void)arg;
	for (int i = 0; i < n; i++) {
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, lab_tests[lr[i].lab].code);
		gw_seed_put(c, lab_tests[lr[i].lab].abbr);
		gw_seed_put(c, lab_tests[lr[i].lab].name);
		gw_seed_put(c, lab_tests[lr[i].lab].loinc);
		gw_seed_put_scaled(c, lr[i].value, lr[i].decimals);
		gw_seed_put(c, lab_tests[lr[i].lab].unit);
		gw_seed_put_limit(c, lr[i].low, lr[i].decimals);
		gw_seed_put_limit(c, lr[i].high, lr[i].decimals);
		gw_seed_put_timestamp(c, lr[i].day, lr[i].secs);
		gw_seed_row_end(c);
	}
}

/* ---- the plan ---- */

static const struct gw_seed_table fi_tables[] = {
    {"henkilo",
        "COPY fi_rekisteri.henkilo (id, hetu, fhir_tunniste, sukunimi, "
        "etunimet, kutsumanimi, sukupuoli, syntymaaika, kotikunta, "
        "kotikunta_nimi, lahiosoite, postinumero, postitoimipaikka, "
        "puhelin, aidinkieli, kuolinpaiva, muutettu) "
        "FROM STDIN WITH (FREEZE)",
        rows_henkilo},
    {"diagnoosi",
        "COPY fi_rekisteri.diagnoosi (henkilo_id, icd10, nimi_fi, tila, "
        "pysyvyys, todettu, kirjattu) FROM STDIN WITH (FREEZE)",
        rows_diagnoosi},
    {"laakitys",
        "COPY fi_rekisteri.laakitys (henkilo_id, atc, vnr, valmiste, "
        "vahvuus, annostus, aloitettu, lopetettu, tila) "
        "FROM STDIN WITH (FREEZE)",
        rows_laakitys},
    {"allergia",
        "COPY fi_rekisteri.allergia (henkilo_id, aiheuttaja_koodi, "
        "aiheuttaja_nimi, reaktio, vakavuus, kriittisyys, todettu) "
        "FROM STDIN WITH (FREEZE)",
        rows_allergia},
    {"rokotus",
        "COPY fi_rekisteri.rokotus (henkilo_id, rokote_atc, rokote_nimi, "
        "annettu, annos_nro, \"erä\") FROM STDIN WITH (FREEZE)",
        rows_rokotus},
    {"laboratoriotulos",
        "COPY fi_rekisteri.laboratoriotulos (henkilo_id, tutkimus_koodi, "
        "tutkimus_lyhenne, tutkimus_nimi, loinc, tulos, yksikko, "
        "viitevali_ala, viitevali_yla, otettu) FROM STDIN WITH (FREEZE)",
        rows_laboratoriotulos},
};

int
adapter_fi_seed(PGconn *conn, long npatients, const unsigned char *id_key,
    size_t id_key_len)
{
	const struct gw_seed_key k = {id_key, id_key_len};
	const struct gw_seed_plan plan = {
	    .who = "fi seed",
	    .truncate_sql = "TRUNCATE fi_rekisteri.laboratoriotulos, "
	                    "fi_rekisteri.rokotus, fi_rekisteri.allergia, "
	                    "fi_rekisteri.laakitys, fi_rekisteri.diagnoosi, "
	                    "fi_rekisteri.henkilo RESTART IDENTITY CASCADE",
	    .analyze_sql =
	        "ANALYZE fi_rekisteri.henkilo, fi_rekisteri.diagnoosi, "
	        "fi_rekisteri.laakitys, fi_rekisteri.allergia, "
	        "fi_rekisteri.rokotus, fi_rekisteri.laboratoriotulos",
	    .tables = fi_tables,
	    .ntables = GW_ARRAY_LEN(fi_tables),
	    .person = make_person,
	    .person_size = sizeof(struct person),
	    .arg = &k,
	};

	if (conn == NULL || id_key == NULL || id_key_len == 0) {
		gw_error("fi seed: no connection or no id key");
		return GW_ERR;
	}
	if (npatients < 0 || npatients > SLOTS) {
		gw_error("fi seed: %ld patients: the test range holds 0 to %ld",
		    npatients, SLOTS);
		return GW_ERR;
	}
	return gw_seed_run(conn, &plan, npatients);
}
