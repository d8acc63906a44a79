/*
 * seed_no.c: the synthetic Norwegian registry.  Who is ill with what, and
 * when, comes from the shared engine (adapters/common/synth.c); this file
 * gives people Norwegian identities (Tenor-style numbers, names in
 * bokmål, nynorsk and Northern, Lule and South Sámi areas, municipalities
 * with their official Sámi names), names the engine's conditions,
 * medicines, allergens, vaccines and tests in Norwegian vocabulary
 * (ICPC-2 from the fastlege, ICD-10 from hospitals, NLK analysis codes)
 * and writes no_register's six tables with COPY (one transaction,
 * constant memory).
 *
 * Numbers: index -> (birth day, first two individual digits, sex) is an
 * affine permutation of the 36,525 days of 1925-2024 x 50 x 2 slots
 * (3,652,500).  The individual number is 000-499 for the 1900s and
 * 500-999 for the 2000s (so the century rule holds), its last digit has
 * the person's sex parity and is the first of that parity, from a drawn
 * start, whose two control digits exist: of the five digits of a parity at
 * most one makes k1 = 10 and at most one k2 = 10, so one always does.  A
 * slot owns its (day, digits, parity), so numbers are unique without being
 * remembered.  Every month is + 80 (Skatteetaten's Tenor series): no real
 * person's number is ever produced.  About 3 % get a D-nummer (day + 40).
 *
 * Fixed people (alive whatever their age): 0-3 as in every country
 * (adapters/common/synth.h), with depression and alcohol abuse coded in
 * ICPC-2 (P76, P15) and HIV in ICD-10 (B20); 4-7 Sámi in Guovdageaidnu and
 * Kárášjohka whose names and addresses hold every Northern Sámi letter
 * (á č đ ŋ š ŧ ž); 8 a D-nummer holder.  Clinical catalogues are synthetic
 * demo data: analysis codes are illustrative, not an authoritative NLK
 * extract.
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
#include "adapters/no/adapter_no.h"
#include "adapters/no/fnr.h"
#include "gateway/gw.h"

#define FIRST_YEAR 1925
#define BIRTH_DAYS 36525L /* 1925-01-01 .. 2024-12-31 */
#define PER_DAY 100L      /* 50 two-digit individual prefixes x 2 sexes */
#define SLOTS (BIRTH_DAYS * PER_DAY)
#define SLOT_STEP 400003L  /* coprime with SLOTS; ~11 years per index */
#define SLOT_ZERO 1102954L /* index 0: 1955-03-14, a woman */
#define TENOR 80           /* month offset of every number */
#define FIXED_PEOPLE 9
#define ST_ALLERGY_WORDS (GW_SYNTH_ST_COUNTRY + 1)

/* Where people live and what they speak. */
enum group { GROUP_NB, GROUP_NN, GROUP_SAMI, GROUPS };

/* ---- people and places ---- */

/* Municipality numbers as in 2020-2023 (Troms og Finnmark: 54xx). */
static const struct municipality {
	const char *code, *name, *postal, *post_office;
	int weight[GROUPS];
	const char *sami_language; /* of the Sámi who live there */
} municipalities[] = {
    {"0301", "Oslo", "0150", "Oslo", {130, 2, 2}, "se"},
    {"4601", "Bergen", "5003", "Bergen", {35, 40, 0}, NULL},
    {"5001", "Trondheim", "7011", "Trondheim", {40, 1, 2}, "sma"},
    {"1103", "Stavanger", "4006", "Stavanger", {30, 3, 0}, NULL},
    {"1108", "Sandnes", "4306", "Sandnes", {15, 2, 0}, NULL},
    {"4204", "Kristiansand", "4611", "Kristiansand S", {22, 0, 0}, NULL},
    {"3024", "Bærum", "1337", "Sandvika", {25, 0, 0}, NULL},
    {"3005", "Drammen", "3015", "Drammen", {20, 0, 0}, NULL},
    {"3004", "Fredrikstad", "1606", "Fredrikstad", {16, 0, 0}, NULL},
    {"3405", "Lillehammer", "2609", "Lillehammer", {6, 0, 0}, NULL},
    {"1507", "Ålesund", "6002", "Ålesund", {8, 12, 0}, NULL},
    {"4621", "Voss", "5700", "Voss", {1, 10, 0}, NULL},
    {"1577", "Volda", "6100", "Volda", {0, 6, 0}, NULL},
    {"4647", "Sunnfjord", "6800", "Førde", {1, 12, 0}, NULL},
    {"1804", "Bodø", "8006", "Bodø", {10, 0, 3}, "smj"},
    {"5401", "Tromsø", "9008", "Tromsø", {14, 0, 8}, "se"},
    {"5403", "Alta", "9510", "Alta", {6, 0, 6}, "se"},
    {"5430", "Guovdageaidnu - Kautokeino", "9520", "Kautokeino", {0, 0, 30},
        "se"},
    {"5437", "Kárášjohka - Karasjok", "9730", "Karasjok", {0, 0, 25}, "se"},
    {"5436", "Porsáŋgu - Porsanger - Porsanki", "9700", "Lakselv", {1, 0, 10},
        "se"},
    {"5441", "Deatnu - Tana", "9845", "Tana", {1, 0, 10}, "se"},
    {"5442", "Unjárga - Nesseby", "9840", "Varangerbotn", {0, 0, 5}, "se"},
    {"1875", "Hamarøy - Hábmer", "8294", "Hamarøy", {1, 0, 4}, "smj"},
    {"5041", "Snåase - Snåsa", "7760", "Snåsa", {1, 0, 4}, "sma"},
};
#define MUNI_KAUTOKEINO 17
#define MUNI_KARASJOK 18

static const char *const surnames_no[] = {"Hansen", "Johansen", "Olsen",
    "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
    "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen",
    "Henriksen", "Lund", "Sørensen", "Moen", "Strand", "Solberg", "Eide",
    "Bakken", "Lie", "Nygård", "Sæther", "Ødegård", "Næss", "Søreng", "Aasen",
    "Haugland", "Rønning", "Øien"};
static const char *const male_no[] = {"Jan", "Per", "Bjørn", "Ole", "Lars",
    "Kjell", "Knut", "Arne", "Svein", "Thomas", "Hans", "Geir", "Tor", "Morten",
    "Terje", "Odd", "Martin", "Erik", "Anders", "Rune", "Trond", "Harald",
    "Jon", "Øyvind", "Magnus", "Jonas", "Emil", "Henrik", "Sindre", "Håkon",
    "Aksel", "Ola"};
static const char *const female_no[] = {"Anne", "Inger", "Kari", "Marit",
    "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Hilde", "Anna",
    "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth",
    "Kristin", "Emma", "Nora", "Sofie", "Ingeborg", "Åse", "Tone", "Jannice",
    "Sigrid", "Ragnhild", "Gro", "Kjersti", "Synnøve"};
static const char *const surnames_sami[] = {"Sara", "Gaup", "Eira", "Somby",
    "Hætta", "Bongo", "Buljo", "Utsi", "Turi", "Mienna", "Anti", "Siri",
    "Oskal", "Balto", "Kemi", "Logje"};
static const char *const male_sami[] = {"Ánde", "Niillas", "Máhtte", "Jovnna",
    "Piera", "Ovllá", "Áslat", "Mihkkal", "Jovsset", "Heaika"};
static const char *const female_sami[] = {"Máret", "Biret", "Iŋgá", "Elle",
    "Sunná", "Ánne", "Risten", "Kárin", "Sire", "Áile"};
static const char *const streets_nb[] = {"Storgata", "Kirkegata", "Skolegata",
    "Parkveien", "Strandveien", "Bakkeveien", "Granveien", "Bjørkeveien",
    "Furuveien", "Solbakken", "Sjøgata", "Fjellveien", "Karisvingen",
    "Løkkeveien", "Ringveien"};
static const char *const streets_nn[] = {"Kyrkjevegen", "Skulevegen",
    "Tunvegen", "Sjøvegen", "Fjellvegen", "Bjørkevegen", "Myrvegen",
    "Løevegen"};
/* Northern Sámi street names in the Sámi municipalities. */
static const char *const streets_sami[] = {"Vuođđogeaidnu", "Ruoŧŧageaidnu",
    "Čáhcegeaidnu", "Guovžageaidnu", "Šaldegeaidnu", "Beaivegeaidnu",
    "Boazogeaidnu", "Johkageaidnu"};

/* D-nummer holders: people working or living here for a while. */
static const struct foreign {
	const char *language;
	const char *const surname_m[4], *const surname_f[4];
	const char *const male[4], *const female[4];
} foreigners[] = {
    {"pl", {"Kowalski", "Nowak", "Wiśniewski", "Wójcik"},
        {"Kowalska", "Nowak", "Wiśniewska", "Wójcik"},
        {"Piotr", "Tomasz", "Łukasz", "Krzysztof"},
        {"Ewa", "Agnieszka", "Małgorzata", "Katarzyna"}},
    {"lt", {"Kazlauskas", "Jankauskas", "Petrauskas", "Stankevičius"},
        {"Kazlauskienė", "Jankauskaitė", "Petrauskienė", "Stankevičiūtė"},
        {"Jonas", "Mantas", "Tomas", "Darius"},
        {"Rūta", "Aistė", "Eglė", "Inga"}},
    {"en", {"Smith", "Brown", "Taylor", "Wilson"},
        {"Smith", "Brown", "Taylor", "Wilson"},
        {"James", "Oliver", "Jack", "Harry"},
        {"Emma", "Olivia", "Amelia", "Isla"}},
};

/* Fixed Sámi people 4-7: their letters cover á č đ ŋ š ŧ ž. */
static const struct fixed {
	long index;
	int municipality;
	const char *language, *given, *family, *street;
} fixed_sami[] = {
    {4, MUNI_KARASJOK, "se", "Iŋgá Máret", "Hætta", "Vuođđogeaidnu 3"},
    {5, MUNI_KAUTOKEINO, "se", "Ánde Niillas", "Somby", "Ruoŧŧageaidnu 12"},
    {6, MUNI_KAUTOKEINO, "se", "Biret", "Eira", "Čáhcegeaidnu 5"},
    {7, MUNI_KARASJOK, "nb", "Niillas", "Gaup", "Guovžačearru 8"},
};
#define FIXED_DNR 8

/* ---- the engine's catalogue in Norwegian ---- */

static const struct {
	const char *kodeverk, *code, *text;
} diagnoses[GW_SYNTH_DX_COUNT] = {
    [GW_SYNTH_DX_DIABETES2] = {"ICPC-2", "T90", "Diabetes type 2"},
    [GW_SYNTH_DX_HYPERTENSION] = {"ICPC-2", "K86", "Hypertensjon ukomplisert"},
    [GW_SYNTH_DX_ASTHMA] = {"ICPC-2", "R96", "Astma"},
    [GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA] = {"ICPC-2", "T93",
        "Lipidforstyrrelse"},
    [GW_SYNTH_DX_ATRIAL_FIBRILLATION] = {"ICD-10", "I48.9",
        "Atrieflimmer og atrieflutter, uspesifisert"},
    [GW_SYNTH_DX_KNEE_ARTHROSIS] = {"ICPC-2", "L90", "Kneartrose"},
    [GW_SYNTH_DX_REFLUX] = {"ICD-10", "K21.9",
        "Gastroøsofageal reflukssykdom uten øsofagitt"},
    [GW_SYNTH_DX_HYPOTHYROIDISM] = {"ICPC-2", "T86", "Hypotyreose/myksødem"},
    [GW_SYNTH_DX_MIGRAINE] = {"ICPC-2", "N89", "Migrene"},
    [GW_SYNTH_DX_UPPER_RESPIRATORY_INFECTION] = {"ICPC-2", "R74",
        "Akutt øvre luftveisinfeksjon"},
    [GW_SYNTH_DX_URINARY_INFECTION] = {"ICPC-2", "U71",
        "Cystitt/urinveisinfeksjon IKA"},
    [GW_SYNTH_DX_RADIUS_FRACTURE] = {"ICD-10", "S52.5",
        "Brudd i nedre ende av radius"},
    [GW_SYNTH_DX_DEPRESSION] = {"ICPC-2", "P76", "Depresjon"},
    [GW_SYNTH_DX_ALCOHOL_DEPENDENCE] = {"ICPC-2", "P15",
        "Kronisk alkoholmisbruk"},
    [GW_SYNTH_DX_HIV] = {"ICD-10", "B20",
        "HIV-sykdom med infeksjons- og parasittsykdommer"},
    [GW_SYNTH_DX_CHLAMYDIA] = {"ICD-10", "A56.0",
        "Klamydiainfeksjon i nedre urinveier og kjønnsorganer"},
};

static const struct {
	const char *atc, *product, *strength, *dosage;
} medications[GW_SYNTH_MED_COUNT] = {
    [GW_SYNTH_MED_METFORMIN] = {"A10BA02", "Metformin Mylan", "500 mg",
        "1 tablett 2 ganger daglig til måltid"},
    [GW_SYNTH_MED_RAS_BLOCKER] = {"C09CA01", "Cozaar", "50 mg",
        "1 tablett daglig"},
    [GW_SYNTH_MED_AMLODIPINE] = {"C08CA01", "Norvasc", "5 mg",
        "1 tablett om morgenen"},
    [GW_SYNTH_MED_SALBUTAMOL] = {"R03AC02", "Ventoline", "0,1 mg/dose",
        "1–2 inhalasjoner ved behov"},
    [GW_SYNTH_MED_BUDESONIDE] = {"R03BA02", "Pulmicort Turbuhaler",
        "200 mikrog/dose", "1 inhalasjon 2 ganger daglig"},
    [GW_SYNTH_MED_ATORVASTATIN] = {"C10AA05", "Lipitor", "20 mg",
        "1 tablett om kvelden"},
    [GW_SYNTH_MED_APIXABAN] = {"B01AF02", "Eliquis", "5 mg",
        "1 tablett 2 ganger daglig"},
    [GW_SYNTH_MED_METOPROLOL] = {"C07AB02", "Selo-Zok", "50 mg",
        "1 tablett daglig"},
    [GW_SYNTH_MED_LEVOTHYROXINE] = {"H03AA01", "Levaxin", "100 mikrog",
        "1 tablett om morgenen på tom mage"},
    [GW_SYNTH_MED_PPI] = {"A02BC02", "Somac", "40 mg", "1 tablett om morgenen"},
    [GW_SYNTH_MED_PARACETAMOL] = {"N02BE01", "Paracet", "1 g",
        "1 tablett ved behov, høyst 3 ganger daglig"},
    [GW_SYNTH_MED_SUMATRIPTAN] = {"N02CC01", "Imigran", "50 mg",
        "1 tablett ved anfall"},
    [GW_SYNTH_MED_UTI_ANTIBIOTIC] = {"J01CA08", "Selexid", "200 mg",
        "1 tablett 3 ganger daglig i 3 dager"},
    [GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC] = {"J01AA02", "Doxyferm", "100 mg",
        "2 tabletter første dag, deretter 1 tablett daglig i 6 dager"},
    [GW_SYNTH_MED_IBUPROFEN] = {"M01AE01", "Ibux", "400 mg",
        "1 tablett ved behov, høyst 3 ganger daglig"},
    [GW_SYNTH_MED_VITAMIN_D] = {"A11CC05", "Nycoplus D-vitamin", "20 mikrog",
        "1 tablett daglig"},
};

static const struct {
	const char *code, *text;
} allergens[GW_SYNTH_AG_COUNT] = {
    [GW_SYNTH_AG_PENICILLIN_V] = {"J01CE02", "Fenoksymetylpenicillin"},
    [GW_SYNTH_AG_AMOXICILLIN] = {"J01CA04", "Amoksicillin"},
    [GW_SYNTH_AG_IBUPROFEN] = {"M01AE01", "Ibuprofen"},
    [GW_SYNTH_AG_ASA] = {"N02BA01", "Acetylsalisylsyre"},
    [GW_SYNTH_AG_SULFAMETHOXAZOLE_TRIMETHOPRIM] = {"J01EE01",
        "Sulfametoksazol og trimetoprim"},
    [GW_SYNTH_AG_PEANUT] = {"762952008", "Peanøtt"},
    [GW_SYNTH_AG_LATEX] = {"111088007", "Lateks"},
};
static const char *const reactions[GW_SYNTH_RX_COUNT] = {
    [GW_SYNTH_RX_URTICARIA] = "urtikaria",
    [GW_SYNTH_RX_RASH] = "utslett",
    [GW_SYNTH_RX_NAUSEA] = "kvalme",
    [GW_SYNTH_RX_ANGIOEDEMA] = "angioødem",
    [GW_SYNTH_RX_DYSPNOEA] = "dyspné",
    [GW_SYNTH_RX_ANAPHYLAXIS] = "anafylaksi",
};
static const char *const severities[] = {
    [GW_SYNTH_MILD] = "lett",
    [GW_SYNTH_MODERATE] = "moderat",
    [GW_SYNTH_SEVERE] = "alvorlig",
};
static const char *const criticalities[] = {
    [GW_SYNTH_CRIT_LOW] = "lav",
    [GW_SYNTH_CRIT_HIGH] = "høy",
    [GW_SYNTH_CRIT_UNABLE_TO_ASSESS] = "kan ikke vurderes",
};

static const struct {
	const char *atc, *name, *lot_prefix;
} vaccines[GW_SYNTH_VX_COUNT] = {
    [GW_SYNTH_VX_INFLUENZA] = {"J07BB02", "Influvac Tetra", "IT"},
    [GW_SYNTH_VX_COVID] = {"J07BX03", "Comirnaty", "FE"},
    [GW_SYNTH_VX_DIPHTHERIA_TETANUS] = {"J07AJ52", "Boostrix", "BX"},
    [GW_SYNTH_VX_MMR] = {"J07BD52", "Priorix", "PX"},
    [GW_SYNTH_VX_HEPATITIS_B] = {"J07BC01", "Engerix-B", "EB"},
    [GW_SYNTH_VX_HPV] = {"J07BM03", "Gardasil 9", "GA"},
    [GW_SYNTH_VX_ROTAVIRUS] = {"J07BH01", "Rotarix", "RX"},
};

/* No LOINC mapping in the registry for TSH and ALAT. */
static const struct {
	const char *code, *name, *loinc, *unit;
} lab_tests[GW_SYNTH_LAB_COUNT] = {
    [GW_SYNTH_LAB_CREATININE] = {"NPU18016", "P-Kreatinin", "14682-9",
        "umol/L"},
    [GW_SYNTH_LAB_HBA1C] = {"NPU27300", "B-HbA1c", "59261-8", "mmol/mol"},
    [GW_SYNTH_LAB_LDL] = {"NPU01568", "P-LDL-kolesterol", "22748-8", "mmol/L"},
    [GW_SYNTH_LAB_CHOLESTEROL] = {"NPU01566", "P-Kolesterol", "14647-2",
        "mmol/L"},
    [GW_SYNTH_LAB_HDL] = {"NPU01567", "P-HDL-kolesterol", "14646-4", "mmol/L"},
    [GW_SYNTH_LAB_TRIGLYCERIDES] = {"NPU04094", "P-Triglyserider", "14927-8",
        "mmol/L"},
    [GW_SYNTH_LAB_GLUCOSE] = {"NPU02192", "P-Glukose", "14749-6", "mmol/L"},
    [GW_SYNTH_LAB_POTASSIUM] = {"NPU03230", "P-Kalium", "2823-3", "mmol/L"},
    [GW_SYNTH_LAB_SODIUM] = {"NPU03429", "P-Natrium", "2951-2", "mmol/L"},
    [GW_SYNTH_LAB_HAEMOGLOBIN] = {"NPU28309", "B-Hemoglobin", "718-7", "g/dL"},
    [GW_SYNTH_LAB_CRP] = {"NPU19748", "P-CRP", "1988-5", "mg/L"},
    [GW_SYNTH_LAB_TSH] = {"NPU03577", "P-TSH", NULL, "m[IU]/L"},
    [GW_SYNTH_LAB_ALT] = {"NPU19651", "P-ALAT", NULL, "U/L"},
};

static const struct gw_synth_country no_country =
    {
        .seed_base = 0x4e4f525741592121ULL, /* "NORWAY!!" */
        .fixed_people = FIXED_PEOPLE,
        .course_days =
            {
                [GW_SYNTH_MED_UTI_ANTIBIOTIC] = 3,
                [GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC] = 7,
                [GW_SYNTH_MED_IBUPROFEN] = 10,
            },
        /* Rotavirus from October 2014, MMR since 1983, HPV for girls born
         * 1997 and later from 2009, boys born 2006 and later. */
        .rota_born_from = {2014, 10, 1},
        .mmr_born_from = {1983, 1, 1},
        .hpv_start = {2009, 9, 1},
        .hpv_girls_from = 1997,
        .hpv_boys_from = 2006,
        .labs =
            {
                [GW_SYNTH_LAB_CREATININE] = {.decimals = 0,
                    .ref_low = 45,
                    .ref_high = 105,
                    .mean = 78,
                    .spread = 22,
                    .by_sex = true,
                    .sex_mean = {80, 66},
                    .sex_low = {60, 45},
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
                    .ref_low = 35,
                    .ref_high = 50,
                    .mean = 42,
                    .spread = 3},
                [GW_SYNTH_LAB_SODIUM] = {.decimals = 0,
                    .ref_low = 137,
                    .ref_high = 145,
                    .mean = 140,
                    .spread = 3},
                /* Norway reports haemoglobin in g/dL. */
                [GW_SYNTH_LAB_HAEMOGLOBIN] = {.decimals = 1,
                    .ref_low = 117,
                    .ref_high = 170,
                    .mean = 142,
                    .spread = 14,
                    .by_sex = true,
                    .sex_mean = {150, 134},
                    .sex_low = {134, 117},
                    .sex_high = {170, 153}},
                [GW_SYNTH_LAB_CRP] = {.decimals = 0,
                    .ref_low = -1,
                    .ref_high = 5,
                    .mean = 3,
                    .spread = 3},
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
	enum adapter_no_kind kind;
	char number[12];
	enum group group;
	const struct municipality *muni;
	const struct foreign *foreign; /* D-nummer holders */
	const struct fixed *fixed;     /* fixed Sámi people */
	const char *language;
};

static int
municipality_weight(long i, int group)
{
	return municipalities[i].weight[group];
}

/* The number of a slot: the first individual number of the sex's parity,
 * from a drawn start, whose control digits exist (see the top comment). */
static void
make_number(
    struct person *p, long day, long prefix, int sex, struct gw_seed_rng *r)
{
	long y;
	int m, d;
	long start = gw_seed_below(r, 5);

	gw_civil_from_days(day, &y, &m, &d);
	for (int k = 0; k < 5; k++) {
		int last = (int)(2 * ((start + k) % 5) + (sex == 1 ? 1 : 0));
		int individual =
		    (y >= 2000 ? 500 : 0) + (int)prefix * 10 + last;

		if (adapter_no_ident_make(p->kind, TENOR, (int)y, m, d,
		        individual, p->number) == GW_OK)
			return;
	}
	/* Unreachable by the argument above; an empty number fails the
	 * table's CHECK, loudly. */
	p->number[0] = '\0';
}

static void
make_person(long index, void *out, const void *arg)
{
	struct person *p = out;
	struct gw_seed_rng r;
	long slot, day, prefix;
	int sex;

	(void)arg;
	memset(p, 0, sizeof(*p));
	gw_seed_rng_init(&r, no_country.seed_base, index, GW_SYNTH_ST_PERSON);
	slot =
	    (long)(((uint64_t)index * SLOT_STEP + SLOT_ZERO) % (uint64_t)SLOTS);
	day = gw_civil_days(FIRST_YEAR, 1, 1) + slot / PER_DAY;
	prefix = slot % PER_DAY / 2;
	sex = slot % 2 == 0 ? 2 : 1;

	for (size_t i = 0; i < GW_ARRAY_LEN(fixed_sami); i++)
		if (fixed_sami[i].index == index)
			p->fixed = &fixed_sami[i];
	if (p->fixed != NULL) {
		p->kind = ADAPTER_NO_FNR;
		p->group = GROUP_SAMI;
		p->muni = &municipalities[p->fixed->municipality];
		p->language = p->fixed->language;
	} else if (index == FIXED_DNR ||
	           (index >= FIXED_PEOPLE && gw_seed_permille(&r, 30))) {
		p->kind = ADAPTER_NO_DNR;
		p->group = GROUP_NB;
		p->foreign = &GW_SEED_PICK(&r, foreigners);
		p->muni = &municipalities[gw_seed_weighted(&r,
		    (long)GW_ARRAY_LEN(municipalities), municipality_weight,
		    GROUP_NB)];
		p->language = p->foreign->language;
	} else {
		p->kind = ADAPTER_NO_FNR;
		p->group = gw_seed_permille(&r, 45)    ? GROUP_SAMI
		           : gw_seed_permille(&r, 120) ? GROUP_NN
		                                       : GROUP_NB;
		p->muni = &municipalities[gw_seed_weighted(&r,
		    (long)GW_ARRAY_LEN(municipalities), municipality_weight,
		    (int)p->group)];
		if (p->group == GROUP_SAMI)
			p->language = gw_seed_permille(&r, 600) &&
			                      p->muni->sami_language != NULL
			                  ? p->muni->sami_language
			                  : "nb";
		else
			p->language = p->group == GROUP_NN ? "nn" : "nb";
	}
	make_number(p, day, prefix, sex, &r);
	gw_synth_life(&no_country, index, day, sex, &r, &p->s);
}

/* ---- rows, one writer per table ---- */

static void
rows_pasient(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	const struct gw_seed_key *k = arg;
	const char *family, *middle = NULL, *picked[3];
	char token[32], given[160], street[96], phone[24];
	struct gw_seed_rng r;
	long secs, number;

	gw_seed_rng_init(
	    &r, no_country.seed_base, p->s.index, GW_SYNTH_ST_NAME);
	if (p->fixed != NULL) {
		family = p->fixed->family;
		gw_strlcpy(given, p->fixed->given, sizeof(given));
		gw_strlcpy(street, p->fixed->street, sizeof(street));
	} else if (p->foreign != NULL) {
		long i = gw_seed_below(&r, 4);

		family = p->s.sex == 1 ? p->foreign->surname_m[i]
		                       : p->foreign->surname_f[i];
		gw_strlcpy(given,
		    p->s.sex == 1 ? p->foreign->male[gw_seed_below(&r, 4)]
		                  : p->foreign->female[gw_seed_below(&r, 4)],
		    sizeof(given));
		number = gw_seed_range(&r, 1, 80);
		snprintf(street, sizeof(street), "%s %ld",
		    GW_SEED_PICK(&r, streets_nb), number);
	} else {
		bool sami = p->group == GROUP_SAMI;
		const char *const *pool;
		long npool;

		/* Sámi families in Norwegian-speaking homes keep Sámi names
		 * as often as not. */
		family = sami && gw_seed_permille(&r, 700)
		             ? GW_SEED_PICK(&r, surnames_sami)
		             : GW_SEED_PICK(&r, surnames_no);
		if (sami && gw_seed_permille(&r, 650)) {
			pool = p->s.sex == 1 ? male_sami : female_sami;
			npool = p->s.sex == 1 ? (long)GW_ARRAY_LEN(male_sami)
			                      : (long)GW_ARRAY_LEN(female_sami);
		} else {
			pool = p->s.sex == 1 ? male_no : female_no;
			npool = p->s.sex == 1 ? (long)GW_ARRAY_LEN(male_no)
			                      : (long)GW_ARRAY_LEN(female_no);
		}
		(void)gw_seed_given_names(
		    &r, pool, npool, picked, given, sizeof(given));
		/* Some carry a middle name, a family name of its own. */
		if (gw_seed_permille(&r, 150))
			middle = GW_SEED_PICK(&r, surnames_no);
		number = gw_seed_range(&r, 1, 120);
		snprintf(street, sizeof(street), "%s %ld",
		    sami && p->muni->weight[GROUP_NB] == 0
		        ? GW_SEED_PICK(&r, streets_sami)
		    : p->group == GROUP_NN ? GW_SEED_PICK(&r, streets_nn)
		                           : GW_SEED_PICK(&r, streets_nb),
		    number);
	}
	if (gw_adapter_token(k->key, k->len, "NO", p->number, token,
	        sizeof(token)) != GW_OK) {
		gw_error("no seed: cannot compute the id token");
		c->failed = true;
		return;
	}

	gw_seed_putf(c, "%ld", p->s.id);
	gw_seed_put(c, p->number);
	gw_seed_put(c, p->kind == ADAPTER_NO_DNR ? "dnr" : "fnr");
	gw_seed_put(c, token);
	gw_seed_put(c, given);
	gw_seed_put(c, middle);
	gw_seed_put(c, family);
	gw_seed_put(c, p->s.sex == 1 ? "mann" : "kvinne");
	gw_seed_put_date(c, p->s.birth);
	gw_seed_put(c, p->muni->code);
	gw_seed_put(c, p->muni->name);
	gw_seed_put(c, street);
	gw_seed_put(c, p->muni->postal);
	gw_seed_put(c, p->muni->post_office);
	if (gw_seed_permille(&r, 800)) {
		number = gw_seed_below(&r, 10000000);
		snprintf(phone, sizeof(phone), "+47%c%07ld",
		    gw_seed_permille(&r, 500) ? '4' : '9', number);
		gw_seed_put(c, phone);
	} else {
		gw_seed_put(c, NULL);
	}
	gw_seed_put(c, p->language);
	gw_seed_put_date(c, p->s.death);
	secs = gw_seed_below(&r, 86400);
	gw_seed_put_timestamp(c,
	    gw_seed_range(
	        &r, gw_civil_days(2019, 1, 1), gw_synth_reference_day()),
	    secs);
	gw_seed_row_end(c);
}

static void
rows_diagnose(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_diagnosis dx[GW_SYNTH_DX_COUNT];
	int n = gw_synth_diagnoses(&no_country, &p->s, dx);

	(void)arg;
	for (int i = 0; i < n; i++) {
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, diagnoses[dx[i].dx].kodeverk);
		gw_seed_put(c, diagnoses[dx[i].dx].code);
		gw_seed_put(c, diagnoses[dx[i].dx].text);
		gw_seed_put(c, dx[i].chronic ? "aktiv" : "avsluttet");
		gw_seed_put_date(c, dx[i].onset);
		gw_seed_put_timestamp(c, dx[i].recorded, dx[i].recorded_s);
		gw_seed_row_end(c);
	}
}

static void
rows_legemiddel(struct gw_seed_copy *c, const void *person, const void *arg)
{
	static const char *const states[] = {
	    [GW_SYNTH_ACTIVE] = "aktiv",
	    [GW_SYNTH_COMPLETED] = "avsluttet",
	    [GW_SYNTH_STOPPED] = "seponert",
	};
	const struct person *p = person;
	struct gw_synth_medication meds[GW_SYNTH_MAX_MEDICATIONS];
	int n = gw_synth_medications(&no_country, &p->s, meds);

	(void)arg;
	for (int i = 0; i < n; i++) {
		const struct gw_synth_medication *m = &meds[i];

		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, medications[m->med].atc);
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
rows_kritisk_informasjon(
    struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_allergy al[GW_SYNTH_MAX_ALLERGIES];
	int n = gw_synth_allergies(&no_country, &p->s, al);
	struct gw_seed_rng r;

	(void)arg;
	gw_seed_rng_init(
	    &r, no_country.seed_base, p->s.index, ST_ALLERGY_WORDS);
	for (int i = 0; i < n; i++) {
		enum gw_synth_reaction rx = al[i].reaction;

		gw_seed_putf(c, "%ld", p->s.id);
		/* Nausea is the registry's typical intolerance. */
		gw_seed_put(
		    c, rx == GW_SYNTH_RX_NAUSEA ? "intoleranse" : "allergi");
		gw_seed_put(c, allergens[al[i].allergen].code);
		gw_seed_put(c, allergens[al[i].allergen].text);
		gw_seed_put(c, reactions[rx]);
		gw_seed_put(c, severities[gw_synth_reaction_severity(rx)]);
		gw_seed_put(
		    c, criticalities[gw_synth_reaction_criticality(rx)]);
		gw_seed_put(
		    c, gw_seed_permille(&r, 120) ? "mistenkt" : "bekreftet");
		gw_seed_put_date(c, al[i].day);
		gw_seed_row_end(c);
	}
}

static void
rows_vaksine(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_vaccination vx[GW_SYNTH_MAX_VACCINATIONS];
	int n = gw_synth_vaccinations(&no_country, &p->s, vx);

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
rows_provesvar(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_lab_result lr[GW_SYNTH_MAX_LABS];
	int n = gw_synth_labs(&no_country, &p->s, lr);

	(void)arg;
	for (int i = 0; i < n; i++) {
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, lab_tests[lr[i].lab].code);
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

static const struct gw_seed_table no_tables[] = {
    {"pasient",
        "COPY no_register.pasient (id, folkeregisterident, identtype, "
        "fhir_id, fornavn, mellomnavn, etternavn, kjonn, fodselsdato, "
        "kommunenummer, kommunenavn, adresse, postnummer, poststed, "
        "telefon, sprak, dodsdato, endret) FROM STDIN WITH (FREEZE)",
        rows_pasient},
    {"diagnose",
        "COPY no_register.diagnose (pasient_id, kodeverk, kode, tekst, "
        "status, diagnosedato, registrert) FROM STDIN WITH (FREEZE)",
        rows_diagnose},
    {"legemiddel",
        "COPY no_register.legemiddel (pasient_id, atc, preparat, styrke, "
        "dosering, startdato, sluttdato, status) "
        "FROM STDIN WITH (FREEZE)",
        rows_legemiddel},
    {"kritisk_informasjon",
        "COPY no_register.kritisk_informasjon (pasient_id, type, "
        "agens_kode, agens_tekst, reaksjon, alvorlighet, kritikalitet, "
        "sikkerhet, registrert_dato) FROM STDIN WITH (FREEZE)",
        rows_kritisk_informasjon},
    {"vaksine",
        "COPY no_register.vaksine (pasient_id, atc, vaksinenavn, "
        "vaksinasjonsdato, dosenummer, batchnummer) "
        "FROM STDIN WITH (FREEZE)",
        rows_vaksine},
    {"provesvar",
        "COPY no_register.provesvar (pasient_id, analysekode, analysenavn, "
        "loinc, resultat, enhet, referanse_nedre, referanse_ovre, "
        "provetaking) FROM STDIN WITH (FREEZE)",
        rows_provesvar},
};

int
adapter_no_seed(PGconn *conn, long npatients, const unsigned char *id_key,
    size_t id_key_len)
{
	const struct gw_seed_key k = {id_key, id_key_len};
	const struct gw_seed_plan plan = {
	    .who = "no seed",
	    .truncate_sql = "TRUNCATE no_register.provesvar, "
	                    "no_register.vaksine, "
	                    "no_register.kritisk_informasjon, "
	                    "no_register.legemiddel, no_register.diagnose, "
	                    "no_register.pasient RESTART IDENTITY CASCADE",
	    .analyze_sql = "ANALYZE no_register.pasient, no_register.diagnose, "
	                   "no_register.legemiddel, "
	                   "no_register.kritisk_informasjon, "
	                   "no_register.vaksine, no_register.provesvar",
	    .tables = no_tables,
	    .ntables = GW_ARRAY_LEN(no_tables),
	    .person = make_person,
	    .person_size = sizeof(struct person),
	    .arg = &k,
	};

	if (conn == NULL || id_key == NULL || id_key_len == 0) {
		gw_error("no seed: no connection or no id key");
		return GW_ERR;
	}
	if (npatients < 0 || npatients > SLOTS) {
		gw_error("no seed: %ld patients: the synthetic series holds 0 "
		         "to %ld",
		    npatients, SLOTS);
		return GW_ERR;
	}
	return gw_seed_run(conn, &plan, npatients);
}
