/*
 * seed_fi.c: the synthetic Finnish registry.  Every person is a pure
 * function of its index (splitmix64 streams seeded by index and purpose),
 * so the same N always gives the same data, and each table is written in
 * its own pass that regenerates the people it needs: six COPY FROM STDIN
 * streams in one transaction, a fixed-size buffer, no per-patient state.
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
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "adapters/adapter.h"
#include "adapters/fi/adapter_fi.h"
#include "adapters/fi/hetu.h"
#include "gateway/gw.h"

#define SEED_BASE 0x46494e4c414e4421ULL /* "FINLAND!" */
#define FIRST_YEAR 1925
#define BIRTH_DAYS 36525L                /* 1925-01-01 .. 2024-12-31 */
#define INDIVIDUALS 100L                 /* 900-999 */
#define SLOTS (BIRTH_DAYS * INDIVIDUALS) /* unique HETUs available */
#define SLOT_STEP 400003L  /* coprime with SLOTS; ~11 years per index */
#define SLOT_ZERO 1102955L /* index 0: 1955-03-14, individual 955 */
#define COPY_BUF ((size_t)1024 * 1024)
#define COPY_FLUSH (COPY_BUF - (size_t)16 * 1024)
#define PROGRESS_EVERY 100000L
#define MAX_DIAGNOSES 6
#define MAX_MEDICATIONS 8
#define MAX_VACCINATIONS 6
#define MAX_LABS 10
#define NO_DAY LONG_MIN /* an absent date; days before 1970 are negative */

/* PRNG streams: one per purpose, so passes never disturb each other. */
enum stream {
	ST_PERSON = 1,
	ST_DIAGNOSIS,
	ST_MEDICATION,
	ST_ALLERGY,
	ST_VACCINATION,
	ST_LAB,
	ST_NAME,
	ST_ONSET = 64, /* + diagnosis row */
};

enum lang { LANG_FI, LANG_SV, LANG_SE };
static const char *const lang_codes[] = {"fi", "sv", "se"};

/* ---- catalogues ---- */

static const struct municipality {
	const char *code, *name, *postal, *post_office;
	int weight_fi, weight_sv, weight_sami;
} municipalities[] = {
    {"091", "Helsinki", "00100", "Helsinki", 120, 25, 0},
    {"049", "Espoo", "02100", "Espoo", 55, 15, 0},
    {"092", "Vantaa", "01300", "Vantaa", 45, 5, 0},
    {"837", "Tampere", "33100", "Tampere", 45, 0, 0},
    {"853", "Turku", "20100", "Turku", 35, 8, 0},
    {"564", "Oulu", "90100", "Oulu", 40, 0, 0},
    {"179", "Jyväskylä", "40100", "Jyväskylä", 28, 0, 0},
    {"398", "Lahti", "15100", "Lahti", 22, 0, 0},
    {"297", "Kuopio", "70100", "Kuopio", 22, 0, 0},
    {"609", "Pori", "28100", "Pori", 15, 0, 0},
    {"167", "Joensuu", "80100", "Joensuu", 14, 0, 0},
    {"698", "Rovaniemi", "96100", "Rovaniemi", 12, 0, 0},
    {"743", "Seinäjoki", "60100", "Seinäjoki", 12, 0, 0},
    {"109", "Hämeenlinna", "13100", "Hämeenlinna", 13, 0, 0},
    {"020", "Akaa", "37800", "Akaa", 4, 0, 0},
    {"905", "Vaasa", "65100", "Vaasa", 6, 20, 0},
    {"638", "Porvoo", "06100", "Porvoo", 4, 15, 0},
    {"445", "Parainen", "21600", "Parainen", 1, 10, 0},
    {"478", "Maarianhamina", "22100", "Maarianhamina", 0, 12, 0},
    {"148", "Inari", "99800", "Ivalo", 0, 0, 40},
    {"890", "Utsjoki", "99980", "Utsjoki", 0, 0, 25},
    {"047", "Enontekiö", "99400", "Enontekiö", 0, 0, 20},
    {"758", "Sodankylä", "99600", "Sodankylä", 0, 0, 15},
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

/* Rows of medications[]; diagnoses name the medicines they bring. */
enum med {
	MED_NONE = -1,
	MED_METFORMIN,
	MED_RAMIPRIL,
	MED_AMLODIPINE,
	MED_SALBUTAMOL,
	MED_BUDESONIDE,
	MED_ATORVASTATIN,
	MED_APIXABAN,
	MED_METOPROLOL,
	MED_LEVOTHYROXINE,
	MED_PANTOPRAZOLE,
	MED_PARACETAMOL,
	MED_SUMATRIPTAN,
	MED_TRIMETHOPRIM,
	MED_AZITHROMYCIN,
	MED_IBUPROFEN,
	MED_VITAMIN_D,
};

/* Diagnoses: who gets them (age and probability) and their medicines. */
static const struct diagnosis {
	const char *icd10, *name;
	bool chronic;
	int min_age; /* years */
	int old_age; /* at or above: permille_old */
	int permille_young, permille_old;
	enum med meds[2];
} diagnoses[] = {
    {"E11.9", "Tyypin 2 diabetes ilman komplikaatioita", true, 30, 50, 15, 110,
        {MED_METFORMIN, MED_NONE}},
    {"I10", "Essentiaalinen verenpainetauti", true, 25, 50, 30, 280,
        {MED_RAMIPRIL, MED_AMLODIPINE}},
    {"J45.9", "Astma, määrittämätön", true, 3, 200, 70, 70,
        {MED_SALBUTAMOL, MED_BUDESONIDE}},
    {"E78.0", "Puhdas hyperkolesterolemia", true, 30, 50, 30, 150,
        {MED_ATORVASTATIN, MED_NONE}},
    {"I48.9", "Eteisvärinä tai eteislepatus, määrittämätön", true, 45, 65, 10,
        90, {MED_APIXABAN, MED_METOPROLOL}},
    {"M17.1", "Muu primaarinen polven nivelrikko", true, 40, 60, 10, 90,
        {MED_PARACETAMOL, MED_NONE}},
    {"K21.9", "Refluksitauti ilman ruokatorven tulehdusta", true, 18, 200, 45,
        45, {MED_PANTOPRAZOLE, MED_NONE}},
    {"E03.9", "Kilpirauhasen vajaatoiminta, määrittämätön", true, 18, 200, 40,
        40, {MED_LEVOTHYROXINE, MED_NONE}},
    {"G43.9", "Migreeni, määrittämätön", true, 12, 200, 40, 40,
        {MED_SUMATRIPTAN, MED_NONE}},
    {"J06.9", "Äkillinen ylähengitystieinfektio, määrittämätön", false, 0, 200,
        250, 250, {MED_NONE, MED_NONE}},
    {"N39.0", "Virtsatieinfektio, paikka määrittämätön", false, 15, 200, 80, 80,
        {MED_TRIMETHOPRIM, MED_NONE}},
    {"S52.5", "Värttinäluun alaosan murtuma", false, 5, 60, 25, 40,
        {MED_NONE, MED_NONE}},
    /* Sensitive (adapters/common/category.c): keep them rare. */
    {"F32.9", "Masennustila, määrittämätön", true, 15, 200, 30, 30,
        {MED_NONE, MED_NONE}},
    {"F10.2", "Alkoholiriippuvuus", true, 20, 200, 10, 10,
        {MED_NONE, MED_NONE}},
    {"B20", "HIV-tauti, josta on seurauksena infektio- tai loistauti", true, 18,
        200, 3, 3, {MED_NONE, MED_NONE}},
    {"A56.0", "Alempien virtsa- ja sukupuolielinten klamydiainfektio", false,
        15, 200, 10, 10, {MED_AZITHROMYCIN, MED_NONE}},
};
enum {
	DX_E11 = 0,
	DX_I10 = 1,
	DX_J45 = 2,
	DX_E78 = 3,
	DX_E03 = 7,
	DX_J06 = 9,
	DX_F32 = 12,
	DX_F10 = 13,
	DX_B20 = 14
};

static const struct medication {
	const char *atc, *vnr, *product, *strength, *dosage;
	int course_days; /* 0: continuous */
} medications[] = {
    [MED_METFORMIN] = {"A10BA02", NULL, "Metforem", "500 mg",
        "1 tabletti 2 kertaa päivässä aterian yhteydessä", 0},
    /* The VNR of Cardace 5 mg as in the FI Base medication example. */
    [MED_RAMIPRIL] = {"C09AA05", "403048", "Cardace", "5 mg",
        "1 tabletti kerran päivässä", 0},
    [MED_AMLODIPINE] = {"C08CA01", NULL, "Norvasc", "5 mg",
        "1 tabletti aamulla", 0},
    [MED_SALBUTAMOL] = {"R03AC02", NULL, "Ventoline Evohaler", "0,1 mg/annos",
        "1–2 inhalaatiota tarvittaessa", 0},
    [MED_BUDESONIDE] = {"R03BA02", NULL, "Pulmicort Turbuhaler",
        "200 mikrog/annos", "1 inhalaatio 2 kertaa päivässä", 0},
    [MED_ATORVASTATIN] = {"C10AA05", NULL, "Lipitor", "20 mg",
        "1 tabletti illalla", 0},
    [MED_APIXABAN] = {"B01AF02", NULL, "Eliquis", "5 mg",
        "1 tabletti 2 kertaa päivässä", 0},
    [MED_METOPROLOL] = {"C07AB02", NULL, "Seloken ZOC", "47,5 mg",
        "1 tabletti kerran päivässä", 0},
    [MED_LEVOTHYROXINE] = {"H03AA01", NULL, "Thyroxin", "100 mikrog",
        "1 tabletti aamulla tyhjään vatsaan", 0},
    [MED_PANTOPRAZOLE] = {"A02BC02", NULL, "Somac", "40 mg",
        "1 tabletti aamulla", 0},
    [MED_PARACETAMOL] = {"N02BE01", NULL, "Panadol Forte", "1 g",
        "1 tabletti tarvittaessa, enintään 3 kertaa päivässä", 0},
    [MED_SUMATRIPTAN] = {"N02CC01", NULL, "Imigran", "50 mg",
        "1 tabletti kohtauksen alkaessa", 0},
    [MED_TRIMETHOPRIM] = {"J01EA01", NULL, "Trimetin", "160 mg",
        "1 tabletti 2 kertaa päivässä 3 päivän ajan", 3},
    [MED_AZITHROMYCIN] = {"J01FA10", NULL, "Azithromycin", "500 mg",
        "2 tablettia kerta-annoksena", 1},
    /* Not tied to a diagnosis. */
    [MED_IBUPROFEN] = {"M01AE01", NULL, "Burana", "400 mg",
        "1 tabletti tarvittaessa, enintään 3 kertaa päivässä", 10},
    [MED_VITAMIN_D] = {"A11CC05", NULL, "Devisol", "20 mikrog",
        "1 tabletti päivässä", 0},
};

static const struct allergen {
	const char *code, *name;
} allergens[] = {
    {"J01CE02", "fenoksimetyylipenisilliini"}, {"J01CA04", "amoksisilliini"},
    {"M01AE01", "ibuprofeeni"}, {"N02BA01", "asetyylisalisyylihappo"},
    {"J01EE01", "sulfametoksatsoli ja trimetopriimi"},
    {"762952008", "maapähkinä"}, /* SNOMED CT: peanut */
    {"111088007", "lateksi"},    /* SNOMED CT: latex */
};
static const struct reaction {
	const char *text, *severity, *criticality;
} reactions[] = {
    {"urtikaria", "lievä", "matala"},
    {"ihottuma", "lievä", "matala"},
    {"pahoinvointi", "lievä", "ei arvioitavissa"},
    {"angioedeema", "kohtalainen", "korkea"},
    {"hengenahdistus", "kohtalainen", "korkea"},
    {"anafylaksia", "vakava", "korkea"},
};

enum vaccine { VX_FLU, VX_COVID, VX_DITE, VX_MPR, VX_HEPB, VX_HPV, VX_ROTA };
static const struct vaccine_def {
	const char *atc, *name, *lot_prefix;
} vaccines[] = {
    [VX_FLU] = {"J07BB02", "Vaxigrip Tetra", "VT"},
    [VX_COVID] = {"J07BX03", "Comirnaty", "FE"},
    [VX_DITE] = {"J07AM51", "diTeBooster", "DT"},
    [VX_MPR] = {"J07BD52", "M-M-RVAXPRO", "MR"},
    [VX_HEPB] = {"J07BC01", "Engerix-B", "EB"},
    [VX_HPV] = {"J07BM03", "Gardasil 9", "GA"},
    [VX_ROTA] = {"J07BH01", "Rotarix", "RX"},
};

/* Lab tests: values are integers scaled by 10^decimals. */
static const struct lab {
	const char *code, *abbr, *name, *loinc, *unit;
	int decimals;
	int ref_low, ref_high; /* -1: none */
	int mean, spread;
} lab_tests[] = {
    {"2143", "P-Krea", "Kreatiniini", "14682-9", "umol/L", 0, 50, 100, 78, 22},
    {"4770", "B-HbA1c", "Hemoglobiini A1c", "59261-8", "mmol/mol", 0, 20, 42,
        36, 5},
    {"4599", "fP-Kol-LDL", "LDL-kolesteroli", "22748-8", "mmol/L", 1, -1, 30,
        31, 9},
    {"4515", "fP-Kol", "Kolesteroli", "14647-2", "mmol/L", 1, -1, 50, 51, 9},
    {"4516", "fP-Kol-HDL", "HDL-kolesteroli", "14646-4", "mmol/L", 1, 10, -1,
        15, 4},
    {"4568", "fP-Trigly", "Triglyseridit", "14927-8", "mmol/L", 1, -1, 17, 13,
        6},
    {"1468", "fP-Gluk", "Glukoosi", "14771-0", "mmol/L", 1, 40, 60, 55, 6},
    {"3085", "P-K", "Kalium", "2823-3", "mmol/L", 1, 33, 49, 41, 3},
    {"3099", "P-Na", "Natrium", "2951-2", "mmol/L", 0, 137, 145, 140, 3},
    {"1552", "B-Hb", "Hemoglobiini", "718-7", "g/L", 0, 117, 167, 142, 14},
    {"4520", "P-CRP", "C-reaktiivinen proteiini", "1988-5", "mg/L", 0, -1, 10,
        4, 4},
    /* No LOINC mapping in the registry for these two. */
    {"3222", "P-TSH", "Tyreotropiini", NULL, "m[IU]/L", 2, 50, 360, 180, 80},
    {"1024", "P-ALAT", "Alaniiniaminotransferaasi", NULL, "U/L", 0, 10, 70, 28,
        12},
};
enum {
	LAB_KREA,
	LAB_HBA1C,
	LAB_LDL,
	LAB_KOL,
	LAB_HDL,
	LAB_TRIGLY,
	LAB_GLUK,
	LAB_K,
	LAB_NA,
	LAB_HB,
	LAB_CRP,
	LAB_TSH,
	LAB_ALAT
};

/* ---- randomness ---- */

struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_init(struct rng *r, long index, unsigned stream)
{
	r->s = SEED_BASE ^ ((uint64_t)index * 0xd1342543de82ef95ULL) ^
	       ((uint64_t)stream << 40);
	(void)rng_next(r);
}

/* Uniform in [0, n), n > 0. */
static long
rng_below(struct rng *r, long n)
{
	return (long)((rng_next(r) >> 11) % (uint64_t)n);
}

static bool
rng_permille(struct rng *r, int permille)
{
	return rng_below(r, 1000) < permille;
}

/* Uniform in [lo, hi]; lo when hi < lo. */
static long
rng_range(struct rng *r, long lo, long hi)
{
	return hi <= lo ? lo : lo + rng_below(r, hi - lo + 1);
}

#define PICK(r, arr) ((arr)[rng_below((r), (long)GW_ARRAY_LEN(arr))])

/* ---- dates (days since 1970-01-01, proleptic Gregorian) ---- */

static long
days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void
fmt_date(long days, char out[11])
{
	int y, m, d;

	civil_from_days(days, &y, &m, &d);
	/* Digits by hand: years stay in 1925-2025 here. */
	out[0] = (char)('0' + y / 1000 % 10);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

/* A UTC timestamp literal for COPY: day plus seconds into the day. */
static void
fmt_timestamp(long days, long secs, char out[32])
{
	char date[11];

	fmt_date(days, date);
	snprintf(out, 32, "%s %02ld:%02ld:%02ld+00", date, secs / 3600 % 24,
	    secs / 60 % 60, secs % 60);
}

static long
years(long n)
{
	return n * 36525 / 100;
}

/* ---- people ---- */

struct person {
	long index;
	long id;           /* henkilo.id = index + 1 */
	long birth, death; /* days; death NO_DAY when alive */
	long end;          /* last day with records */
	int age;           /* whole years at end */
	int by, bm, bd, individual;
	char hetu[12];
	int sex; /* 1 male, 2 female */
	enum lang lang;
	const struct municipality *kunta;
	uint32_t dx; /* bit i: diagnoses[i] */
};

static long
reference_day(void)
{
	/* "Today" of the synthetic registry, fixed for determinism. */
	return days_from_civil(2025, 6, 30);
}

static const struct municipality *
pick_municipality(struct rng *r, int which)
{
	long total = 0, x;

	for (size_t i = 0; i < GW_ARRAY_LEN(municipalities); i++) {
		const struct municipality *m = &municipalities[i];

		total += which == 0   ? m->weight_fi
		         : which == 1 ? m->weight_sv
		                      : m->weight_sami;
	}
	x = rng_below(r, total);
	for (size_t i = 0; i < GW_ARRAY_LEN(municipalities); i++) {
		const struct municipality *m = &municipalities[i];

		x -= which == 0   ? m->weight_fi
		     : which == 1 ? m->weight_sv
		                  : m->weight_sami;
		if (x < 0)
			return m;
	}
	return &municipalities[0];
}

/* Century sign variant: mostly the classic sign, some 2023 ones. */
static int
pick_sign_variant(struct rng *r)
{
	static const int cumulative[] = {880, 920, 950, 970, 990, 1000};
	long x = rng_below(r, 1000);

	for (int v = 0; v < 6; v++)
		if (x < cumulative[v])
			return v;
	return 0;
}

static int
diagnosis_permille(const struct diagnosis *dx, const struct person *p)
{
	int pm;

	if (p->age < dx->min_age)
		return 0;
	pm = p->age >= dx->old_age ? dx->permille_old : dx->permille_young;
	if (dx - diagnoses == DX_E03 && p->sex == 2)
		pm *= 2;
	return pm;
}

/* Everything about person index that more than one table needs. */
static void
person_make(long index, struct person *p)
{
	struct rng r;
	long slot, day;
	int n;

	memset(p, 0, sizeof(*p));
	p->index = index;
	p->id = index + 1;
	rng_init(&r, index, ST_PERSON);

	slot =
	    (long)(((uint64_t)index * SLOT_STEP + SLOT_ZERO) % (uint64_t)SLOTS);
	day = days_from_civil(FIRST_YEAR, 1, 1) + slot / INDIVIDUALS;
	p->individual = 900 + (int)(slot % INDIVIDUALS);
	p->birth = day;
	civil_from_days(day, &p->by, &p->bm, &p->bd);
	(void)adapter_fi_hetu_make(
	    p->by, p->bm, p->bd, p->individual, pick_sign_variant(&r), p->hetu);
	p->sex = p->individual % 2 == 1 ? 1 : 2;

	if (rng_permille(&r, 40)) {
		p->kunta = pick_municipality(&r, 2);
		p->lang = rng_permille(&r, 450) ? LANG_SE : LANG_FI;
	} else if (rng_permille(&r, 55)) {
		p->kunta = pick_municipality(&r, 1);
		p->lang = LANG_SV;
	} else {
		p->kunta = pick_municipality(&r, 0);
		p->lang = LANG_FI;
	}

	p->death = NO_DAY;
	p->end = reference_day();
	n = (int)((p->end - p->birth) * 100 / 36525);
	if (index > 3 && n >= 60 && rng_permille(&r, (n - 55) * 3)) {
		long lo = p->birth + years(60);

		if (lo < p->end - years(15))
			lo = p->end - years(15);
		p->death = rng_range(&r, lo, p->end);
		p->end = p->death;
	}
	p->age = (int)((p->end - p->birth) * 100 / 36525);

	/* Fixed people first, then chance. */
	switch (index) {
	case 0:
		p->dx =
		    1u << DX_E11 | 1u << DX_I10 | 1u << DX_E78 | 1u << DX_J06;
		return;
	case 1:
		p->dx = 1u << DX_F32 | 1u << DX_J45;
		return;
	case 2:
		p->dx = 1u << DX_F10 | 1u << DX_I10;
		return;
	case 3:
		p->dx = 1u << DX_B20;
		return;
	default:
		break;
	}
	n = 0;
	for (size_t i = 0; i < GW_ARRAY_LEN(diagnoses) && n < MAX_DIAGNOSES;
	     i++) {
		if (rng_permille(&r, diagnosis_permille(&diagnoses[i], p))) {
			p->dx |= 1u << i;
			n++;
		}
	}
}

/* Onset day of diagnosis i for p, the same in every pass. */
static long
onset_day(const struct person *p, size_t i)
{
	struct rng r;
	long lo = p->birth + years(diagnoses[i].min_age);

	rng_init(&r, p->index, ST_ONSET + (unsigned)i);
	if (lo > p->end)
		lo = p->end;
	/* Chronic conditions are found over a lifetime; short illnesses in
	 * the last few years, where the registry keeps them. */
	if (!diagnoses[i].chronic && lo < p->end - years(5))
		lo = p->end - years(5);
	return rng_range(&r, lo, p->end);
}

/* ---- COPY streaming ---- */

struct copy {
	PGconn *conn;
	char *buf;
	size_t len;
	bool first; /* next field starts a row */
	bool failed;
	long rows;
};

static void
copy_flush(struct copy *c)
{
	/* After a failure the buffer is only emptied: the stream is dead. */
	if (!c->failed && c->len > 0 &&
	    PQputCopyData(c->conn, c->buf, (int)c->len) != 1) {
		gw_error("fi seed: COPY: %s", PQerrorMessage(c->conn));
		c->failed = true;
	}
	c->len = 0;
}

/* One text-format field; NULL writes \N.  Escapes per COPY text format. */
static void
put(struct copy *c, const char *s)
{
	size_t need = (s ? strlen(s) * 2 : 2) + 2;

	if (c->len + need > COPY_BUF)
		copy_flush(c);
	if (need > COPY_BUF) {
		c->failed = true;
		return;
	}
	if (!c->first)
		c->buf[c->len++] = '\t';
	c->first = false;
	if (s == NULL) {
		c->buf[c->len++] = '\\';
		c->buf[c->len++] = 'N';
		return;
	}
	for (; *s != '\0'; s++) {
		char e = 0;

		switch (*s) {
		case '\\':
			e = '\\';
			break;
		case '\t':
			e = 't';
			break;
		case '\n':
			e = 'n';
			break;
		case '\r':
			e = 'r';
			break;
		default:
			break;
		}
		if (e != 0) {
			c->buf[c->len++] = '\\';
			c->buf[c->len++] = e;
		} else {
			c->buf[c->len++] = *s;
		}
	}
}

static void putf(struct copy *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct copy *c, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(c, tmp);
}

static void
put_date(struct copy *c, long days)
{
	char buf[11];

	if (days == NO_DAY) {
		put(c, NULL);
		return;
	}
	fmt_date(days, buf);
	put(c, buf);
}

static void
put_timestamp(struct copy *c, long days, long secs)
{
	char buf[32];

	fmt_timestamp(days, secs, buf);
	put(c, buf);
}

/* A scaled integer as a decimal without locale: 1234, 2 -> "12.34". */
static void
put_scaled(struct copy *c, long v, int decimals)
{
	static const long pow10[] = {1, 10, 100, 1000};
	long div = pow10[decimals], mag = v < 0 ? -v : v;

	if (decimals == 0)
		putf(c, "%ld", v);
	else
		putf(c, "%s%ld.%0*ld", v < 0 ? "-" : "", mag / div, decimals,
		    mag % div);
}

static void
row_end(struct copy *c)
{
	if (c->len + 1 > COPY_BUF)
		copy_flush(c);
	c->buf[c->len++] = '\n';
	c->first = true;
	c->rows++;
	if (c->len >= COPY_FLUSH)
		copy_flush(c);
}

/* ---- rows, one generator per table ---- */

struct seed_key {
	const unsigned char *key;
	size_t len;
};

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

static void
rows_henkilo(struct copy *c, const struct person *p, const struct seed_key *k)
{
	const struct name_set *ns = &name_sets[p->lang];
	const char *const *given_pool = p->sex == 1 ? ns->male : ns->female;
	long npool = p->sex == 1 ? ns->nmale : ns->nfemale;
	const char *surname, *picked[3];
	char token[32], given[160], street[96];
	struct rng r;
	long lo;
	int ngiven, want;
	size_t len = 0;

	rng_init(&r, p->index, ST_NAME);
	surname = ns->surnames[rng_below(&r, ns->nsurnames)];
	/* Sámi-area families with a Sámi surname but Finnish as mother
	 * tongue are common. */
	if (p->lang == LANG_FI && p->kunta->weight_sami > 0 &&
	    rng_permille(&r, 300))
		surname = PICK(&r, surnames_se);

	want = rng_permille(&r, 200) ? 1 : rng_permille(&r, 750) ? 2 : 3;
	ngiven = 0;
	for (int tries = 0; ngiven < want && tries < 10; tries++) {
		const char *g = given_pool[rng_below(&r, npool)];
		bool dup = false;

		for (int j = 0; j < ngiven; j++)
			dup = dup || strcmp(picked[j], g) == 0;
		if (!dup)
			picked[ngiven++] = g;
	}
	given[0] = '\0';
	for (int j = 0; j < ngiven; j++) {
		int n = snprintf(given + len, sizeof(given) - len, "%s%s",
		    j ? " " : "", picked[j]);

		if (n > 0 && (size_t)n < sizeof(given) - len)
			len += (size_t)n;
	}

	if (gw_adapter_token(
	        k->key, k->len, "FI", p->hetu, token, sizeof(token)) != GW_OK) {
		gw_error("fi seed: cannot compute the id token");
		c->failed = true;
		return;
	}

	putf(c, "%ld", p->id);
	put(c, p->hetu);
	put(c, token);
	put(c, surname);
	put(c, given);
	if (rng_permille(&r, 850))
		put(c, picked[0]);
	else if (ngiven > 1 && rng_permille(&r, 660))
		put(c, picked[1]);
	else
		put(c, NULL);
	putf(c, "%d", p->sex);
	put_date(c, p->birth);
	put(c, p->kunta->code);
	put(c, p->kunta->name);
	if (rng_permille(&r, 350))
		snprintf(street, sizeof(street), "%s %ld %c %ld",
		    PICK(&r, streets), rng_range(&r, 1, 120),
		    (char)('A' + rng_below(&r, 3)), rng_range(&r, 1, 40));
	else
		snprintf(street, sizeof(street), "%s %ld", PICK(&r, streets),
		    rng_range(&r, 1, 120));
	put(c, street);
	put(c, p->kunta->postal);
	put(c, p->kunta->post_office);
	if (rng_permille(&r, 750)) {
		char phone[24];

		snprintf(phone, sizeof(phone), "+358%s%07ld",
		    rng_permille(&r, 500) ? "40" : "50",
		    rng_below(&r, 10000000));
		put(c, phone);
	} else {
		put(c, NULL);
	}
	put(c, lang_codes[p->lang]);
	put_date(c, p->death);
	lo = days_from_civil(2019, 1, 1);
	put_timestamp(
	    c, rng_range(&r, lo, reference_day()), rng_below(&r, 86400));
	row_end(c);
}

static void
rows_diagnoosi(struct copy *c, const struct person *p, const struct seed_key *k)
{
	struct rng r;

	(void)k;
	rng_init(&r, p->index, ST_DIAGNOSIS);
	for (size_t i = 0; i < GW_ARRAY_LEN(diagnoses); i++) {
		const struct diagnosis *dx = &diagnoses[i];
		long onset, recorded;

		if (!(p->dx & 1u << i))
			continue;
		onset = onset_day(p, i);
		recorded = onset + rng_below(&r, 31);
		if (recorded > p->end)
			recorded = p->end;
		putf(c, "%ld", p->id);
		put(c, dx->icd10);
		put(c, dx->name);
		put(c, dx->chronic ? "aktiivinen" : "ratkaistu");
		put(c, dx->chronic ? "pysyvä" : "tilapäinen");
		put_date(c, onset);
		put_timestamp(c, recorded, rng_range(&r, 5 * 3600, 14 * 3600));
		row_end(c);
	}
}

static void
put_medication(struct copy *c, struct rng *r, const struct person *p,
    const struct medication *m, long start)
{
	long stop = NO_DAY;
	const char *tila = "aktiivinen";

	if (start > p->end)
		start = p->end;
	if (m->course_days > 0) {
		stop = start + m->course_days;
		tila = "lopetettu";
	} else if (p->death != NO_DAY) {
		stop = p->death;
		tila = "lopetettu";
	} else if (rng_permille(r, 80)) {
		stop = rng_range(r, start, p->end);
		tila = "lopetettu";
	} else if (rng_permille(r, 20)) {
		stop = rng_range(r, start, p->end);
		tila = "keskeytetty";
	}
	if (stop > p->end)
		stop = p->end;
	putf(c, "%ld", p->id);
	put(c, m->atc);
	put(c, m->vnr);
	put(c, m->product);
	put(c, m->strength);
	put(c, m->dosage);
	put_date(c, start);
	put_date(c, stop);
	put(c, tila);
	row_end(c);
}

static void
rows_laakitys(struct copy *c, const struct person *p, const struct seed_key *k)
{
	struct rng r;
	int n = 0;
	long extras;

	(void)k;
	rng_init(&r, p->index, ST_MEDICATION);
	for (size_t i = 0; i < GW_ARRAY_LEN(diagnoses); i++) {
		long onset;

		if (!(p->dx & 1u << i))
			continue;
		onset = onset_day(p, i);
		for (int j = 0; j < 2 && n < MAX_MEDICATIONS; j++) {
			if (diagnoses[i].meds[j] == MED_NONE)
				continue;
			put_medication(c, &r, p,
			    &medications[diagnoses[i].meds[j]],
			    onset + rng_below(&r, 61));
			n++;
		}
	}
	if (p->age < 12)
		return;
	/* Up to two of the rows after the diagnosis-bound ones. */
	extras = rng_permille(&r, 600) ? 0 : rng_permille(&r, 750) ? 1 : 2;
	for (long e = 0; e < extras && n < MAX_MEDICATIONS; e++, n++) {
		long lo = p->birth + years(12);

		if (lo < p->end - years(5))
			lo = p->end - years(5);
		put_medication(c, &r, p, &medications[MED_IBUPROFEN + e],
		    rng_range(&r, lo, p->end));
	}
}

static void
rows_allergia(struct copy *c, const struct person *p, const struct seed_key *k)
{
	struct rng r;
	long n, first = -1;

	(void)k;
	rng_init(&r, p->index, ST_ALLERGY);
	if (p->index == 0)
		n = 1;
	else
		n = rng_permille(&r, 800) ? 0 : rng_permille(&r, 750) ? 1 : 2;
	for (long i = 0; i < n; i++) {
		long a = rng_below(&r, (long)GW_ARRAY_LEN(allergens));
		const struct reaction *rx = &PICK(&r, reactions);

		if (a == first)
			continue;
		first = a;
		putf(c, "%ld", p->id);
		put(c, allergens[a].code);
		put(c, allergens[a].name);
		put(c, rx->text);
		put(c, rx->severity);
		put(c, rx->criticality);
		put_date(
		    c, rng_range(&r,
		           p->birth + 365 < p->end ? p->birth + 365 : p->birth,
		           p->end));
		row_end(c);
	}
}

struct vaccination {
	long day;
	enum vaccine v;
	int dose;
};

static void
add_vaccination(struct vaccination *list, int *n, int max,
    const struct person *p, long day, enum vaccine v, int dose)
{
	if (*n >= max || day < p->birth || day > p->end)
		return;
	list[*n].day = day;
	list[*n].v = v;
	list[*n].dose = dose;
	(*n)++;
}

static void
rows_rokotus(struct copy *c, const struct person *p, const struct seed_key *k)
{
	struct vaccination list[24];
	const int max = (int)GW_ARRAY_LEN(list);
	struct rng r;
	int n = 0;
	long d;

	(void)k;
	rng_init(&r, p->index, ST_VACCINATION);
	if (p->birth >= days_from_civil(2009, 9, 1)) {
		d = p->birth + rng_range(&r, 42, 70);
		add_vaccination(list, &n, max, p, d, VX_ROTA, 1);
		add_vaccination(
		    list, &n, max, p, d + rng_range(&r, 28, 42), VX_ROTA, 2);
	}
	if (p->birth >= days_from_civil(1982, 1, 1)) {
		add_vaccination(list, &n, max, p,
		    p->birth + rng_range(&r, 425, 545), VX_MPR, 1);
		add_vaccination(list, &n, max, p,
		    p->birth + years(6) + rng_below(&r, 200), VX_MPR, 2);
	}
	if ((p->sex == 2 && p->by >= 2002) || (p->sex == 1 && p->by >= 2009)) {
		d = p->birth + years(11) + rng_below(&r, 365);
		if (d >= days_from_civil(2013, 11, 1)) {
			add_vaccination(list, &n, max, p, d, VX_HPV, 1);
			add_vaccination(list, &n, max, p,
			    d + rng_range(&r, 180, 365), VX_HPV, 2);
		}
	}
	if (p->age >= 25) {
		long lo = p->birth + years(25);

		if (lo < p->end - years(10))
			lo = p->end - years(10);
		add_vaccination(
		    list, &n, max, p, rng_range(&r, lo, p->end), VX_DITE, 1);
	}
	if (p->age >= 65 || rng_permille(&r, 250)) {
		for (int y = 2019; y <= 2024; y++)
			if (rng_permille(&r, 600))
				add_vaccination(list, &n, max, p,
				    days_from_civil(y, 10, 15) +
				        rng_below(&r, 46),
				    VX_FLU, 1);
	}
	if (p->by <= 2009 && rng_permille(&r, 850)) {
		d = days_from_civil(2021, 5, 1) + rng_below(&r, 91);
		if (d >= p->birth + years(12)) {
			add_vaccination(list, &n, max, p, d, VX_COVID, 1);
			add_vaccination(list, &n, max, p,
			    d + rng_range(&r, 42, 84), VX_COVID, 2);
			if (rng_permille(&r, 700))
				add_vaccination(list, &n, max, p,
				    days_from_civil(2022, 1, 1) +
				        rng_below(&r, 76),
				    VX_COVID, 3);
		}
	}
	if (p->age >= 18 && rng_permille(&r, 50)) {
		long lo = p->birth + years(18);

		if (lo < p->end - years(20))
			lo = p->end - years(20);
		d = rng_range(&r, lo, p->end);
		add_vaccination(list, &n, max, p, d, VX_HEPB, 1);
		add_vaccination(list, &n, max, p, d + 30, VX_HEPB, 2);
		add_vaccination(list, &n, max, p, d + 180, VX_HEPB, 3);
	}
	if (n == 0) {
		/* Everyone has at least one. */
		if (p->age >= 14)
			add_vaccination(list, &n, max, p,
			    rng_range(&r, p->birth + years(14), p->end),
			    VX_DITE, 1);
		else
			add_vaccination(
			    list, &n, max, p, p->birth + 60, VX_ROTA, 1);
	}
	/* Chronological order (insertion sort: a handful of rows); the
	 * registry keeps the latest MAX_VACCINATIONS. */
	for (int i = 1; i < n; i++) {
		struct vaccination v = list[i];
		int j = i;

		while (j > 0 && list[j - 1].day > v.day) {
			list[j] = list[j - 1];
			j--;
		}
		list[j] = v;
	}
	for (int i = n > MAX_VACCINATIONS ? n - MAX_VACCINATIONS : 0; i < n;
	     i++) {
		const struct vaccine_def *vd = &vaccines[list[i].v];

		putf(c, "%ld", p->id);
		put(c, vd->atc);
		put(c, vd->name);
		put_date(c, list[i].day);
		putf(c, "%d", list[i].dose);
		putf(c, "%s%04ld", vd->lot_prefix, rng_below(&r, 10000));
		row_end(c);
	}
}

static void
put_lab(struct copy *c, struct rng *r, const struct person *p, int t, long day,
    long secs)
{
	const struct lab *l = &lab_tests[t];
	int mean = l->mean, spread = l->spread, low = l->ref_low;
	int high = l->ref_high;
	long v;

	/* Sex-specific ranges and what the person's conditions do. */
	if (t == LAB_HB) {
		mean = p->sex == 1 ? 150 : 134;
		low = p->sex == 1 ? 134 : 117;
		high = p->sex == 1 ? 167 : 155;
	} else if (t == LAB_KREA && p->sex == 2) {
		mean = 66;
		high = 90;
	} else if (t == LAB_KREA) {
		low = 60;
		high = 105;
	}
	if (p->dx & 1u << DX_E11) {
		if (t == LAB_HBA1C) {
			mean = 55;
			spread = 14;
		} else if (t == LAB_GLUK) {
			mean = 80;
			spread = 25;
		}
	}
	if (p->dx & 1u << DX_E78 && (t == LAB_LDL || t == LAB_KOL)) {
		mean += t == LAB_LDL ? 9 : 10;
	}
	if (p->dx & 1u << DX_E03 && t == LAB_TSH) {
		mean = 450;
		spread = 200;
	}
	v = mean +
	    (rng_range(r, -spread, spread) + rng_range(r, -spread, spread)) / 2;
	if (v < 1)
		v = 1;
	putf(c, "%ld", p->id);
	put(c, l->code);
	put(c, l->abbr);
	put(c, l->name);
	put(c, l->loinc);
	put_scaled(c, v, l->decimals);
	put(c, l->unit);
	if (low >= 0)
		put_scaled(c, low, l->decimals);
	else
		put(c, NULL);
	if (high >= 0)
		put_scaled(c, high, l->decimals);
	else
		put(c, NULL);
	put_timestamp(c, day, secs);
	row_end(c);
}

static void
rows_laboratoriotulos(
    struct copy *c, const struct person *p, const struct seed_key *k)
{
	int tests[MAX_LABS + 4], n = 0;
	bool seen[GW_ARRAY_LEN(lab_tests)];
	struct rng r;
	long day, secs, lo, extras;

	(void)k;
	memset(seen, 0, sizeof(seen));
	rng_init(&r, p->index, ST_LAB);
#define WANT(t)                                                                \
	do {                                                                   \
		if (!seen[t] && n < MAX_LABS) {                                \
			seen[t] = true;                                        \
			tests[n++] = (t);                                      \
		}                                                              \
	} while (0)
	if (p->dx & 1u << DX_E11) {
		WANT(LAB_HBA1C);
		WANT(LAB_GLUK);
		WANT(LAB_KREA);
	}
	if (p->dx & (1u << DX_E11 | 1u << DX_E78 | 1u << DX_I10)) {
		WANT(LAB_LDL);
		WANT(LAB_KOL);
		WANT(LAB_HDL);
		WANT(LAB_TRIGLY);
	}
	if (p->dx & 1u << DX_I10) {
		WANT(LAB_KREA);
		WANT(LAB_K);
		WANT(LAB_NA);
	}
	if (p->dx & 1u << DX_E03)
		WANT(LAB_TSH);
	extras = rng_permille(&r, 450) ? 0 : rng_range(&r, 1, 3);
	if (p->index == 0 && extras == 0)
		extras = 1;
	for (long e = 0; e < extras; e++) {
		static const int pool[] = {
		    LAB_HB, LAB_CRP, LAB_ALAT, LAB_KREA, LAB_TSH};

		WANT(PICK(&r, pool));
	}
#undef WANT
	/* One visit: the panel shares its sampling time. */
	lo = p->end - years(3);
	if (lo < p->birth)
		lo = p->birth;
	day = rng_range(&r, lo, p->end);
	secs = rng_range(&r, 5 * 3600, 9 * 3600);
	for (int i = 0; i < n; i++)
		put_lab(c, &r, p, tests[i], day, secs);
	/* Diabetics: the previous HbA1c half a year earlier. */
	if (seen[LAB_HBA1C] && n < MAX_LABS && day - 210 >= p->birth)
		put_lab(
		    c, &r, p, LAB_HBA1C, day - rng_range(&r, 150, 210), secs);
}

/* ---- passes ---- */

static const struct fi_table {
	const char *name;
	const char *copy_sql;
	void (*rows)(
	    struct copy *, const struct person *, const struct seed_key *);
} fi_tables[] = {
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

static int
exec(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = GW_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		gw_error("fi seed: %s: %s", sql, PQerrorMessage(conn));
		rc = GW_ERR;
	}
	PQclear(res);
	return rc;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Stream one table's rows for npatients people. */
static int
copy_table(struct copy *c, const struct fi_table *t, long npatients,
    const struct seed_key *k)
{
	struct person p;
	PGresult *res;
	int rc = GW_OK;

	res = PQexec(c->conn, t->copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		gw_error("fi seed: %s: %s", t->name, PQerrorMessage(c->conn));
		PQclear(res);
		return GW_ERR;
	}
	PQclear(res);
	c->len = 0;
	c->rows = 0;
	c->first = true;
	c->failed = false;
	for (long i = 0; i < npatients && !c->failed; i++) {
		person_make(i, &p);
		t->rows(c, &p, k);
		if ((i + 1) % PROGRESS_EVERY == 0)
			gw_info("fi seed: %s: %ld/%ld people", t->name, i + 1,
			    npatients);
	}
	copy_flush(c);
	if (PQputCopyEnd(c->conn, c->failed ? "fhirgw seed aborted" : NULL) !=
	    1) {
		gw_error("fi seed: %s: %s", t->name, PQerrorMessage(c->conn));
		rc = GW_ERR;
	}
	while ((res = PQgetResult(c->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			gw_error("fi seed: %s: %s", t->name,
			    PQresultErrorMessage(res));
			rc = GW_ERR;
		}
		PQclear(res);
	}
	if (c->failed)
		rc = GW_ERR;
	if (rc == GW_OK)
		gw_info("fi seed: %s: %ld rows", t->name, c->rows);
	return rc;
}

int
adapter_fi_seed(PGconn *conn, long npatients, const unsigned char *id_key,
    size_t id_key_len)
{
	struct seed_key k = {id_key, id_key_len};
	struct copy c = {.conn = conn};
	struct timespec t0;
	bool own_tx;

	if (conn == NULL || id_key == NULL || id_key_len == 0) {
		gw_error("fi seed: no connection or no id key");
		return GW_ERR;
	}
	if (npatients < 0 || npatients > SLOTS) {
		gw_error("fi seed: %ld patients: the test range holds 0 to %ld",
		    npatients, SLOTS);
		return GW_ERR;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gw_info("fi seed: %ld patients", npatients);
	/* All or nothing; COPY FREEZE needs the TRUNCATE in the same
	 * transaction.  Inside a caller's transaction we join it. */
	own_tx = PQtransactionStatus(conn) == PQTRANS_IDLE;
	if (own_tx && exec(conn, "BEGIN") != GW_OK)
		return GW_ERR;
	if (exec(conn, "SET LOCAL client_encoding TO 'UTF8'") != GW_OK ||
	    exec(conn,
	        "TRUNCATE fi_rekisteri.laboratoriotulos, "
	        "fi_rekisteri.rokotus, fi_rekisteri.allergia, "
	        "fi_rekisteri.laakitys, fi_rekisteri.diagnoosi, "
	        "fi_rekisteri.henkilo RESTART IDENTITY CASCADE") != GW_OK)
		goto err;
	c.buf = gw_malloc(COPY_BUF);
	for (size_t i = 0; i < GW_ARRAY_LEN(fi_tables); i++)
		if (copy_table(&c, &fi_tables[i], npatients, &k) != GW_OK)
			goto err;
	if (exec(conn,
	        "ANALYZE fi_rekisteri.henkilo, fi_rekisteri.diagnoosi, "
	        "fi_rekisteri.laakitys, fi_rekisteri.allergia, "
	        "fi_rekisteri.rokotus, fi_rekisteri.laboratoriotulos") != GW_OK)
		goto err;
	if (own_tx && exec(conn, "COMMIT") != GW_OK)
		goto err;
	gw_free_zero(c.buf, COPY_BUF);
	gw_info("fi seed: done in %.1f s", seconds_since(&t0));
	return GW_OK;
err:
	if (own_tx && PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
	if (c.buf != NULL)
		gw_free_zero(c.buf, COPY_BUF);
	return GW_ERR;
}
