/*
 * seed_se.c: the synthetic Swedish registry.  Who is ill with what, and
 * when, comes from the shared engine (adapters/common/synth.c); this file
 * gives people Swedish identities (12-digit personnummer, a few
 * samordningsnummer, Swedish, Sámi and Tornedalen names and
 * municipalities, the Sámi names of the municipalities in the Sámi
 * administrative area), names the engine's conditions, medicines,
 * allergens, vaccines and tests in Swedish vocabulary (ICD-10-SE, KSH97-P,
 * NPU, enzymes in µkat/L), and writes se_register's six tables with COPY
 * (one transaction, constant memory).
 *
 * Numbers: index -> (birth day, birth number) is an affine permutation of
 * the 36,525 days of 1925-2024 x the 50 birth numbers 950-999 (1,826,250
 * people at most; the last digit's parity is the sex), so numbers are
 * unique without being remembered.  Sweden has no reserved synthetic
 * series: these numbers are generated, not checked against the
 * population register.  About 2 % get a samordningsnummer (day + 60).
 *
 * Fixed people (alive whatever their age): 0-3 as in every country
 * (adapters/common/synth.h: KSH97-P F32-P depression, ICD-10-SE F10.2 and
 * B20); 4 a Lule Sámi woman in Jokkmokk (Jåhkåmåhkke), 5 a Northern Sámi
 * man in Kiruna (Giron); 6 born in 1921, whose 10-digit form takes "+";
 * 7 a samordningsnummer holder.  Clinical catalogues are synthetic demo
 * data: analysis codes are illustrative, not an authoritative extract.
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
#include "adapters/se/adapter_se.h"
#include "adapters/se/personnummer.h"
#include "gateway/gw.h"

#define FIRST_YEAR 1925
#define BIRTH_DAYS 36525L /* 1925-01-01 .. 2024-12-31 */
#define PER_DAY 50L       /* birth numbers 950-999 */
#define FIRST_BIRTH_NUMBER 950
#define SLOTS (BIRTH_DAYS * PER_DAY)
#define SLOT_STEP 200003L /* coprime with SLOTS; ~11 years per index */
#define SLOT_ZERO 551454L /* index 0: 1955-03-14, a woman */
#define FIXED_PEOPLE 8
#define FIXED_CENTENARIAN 6
#define FIXED_SAMORDNING 7
#define ST_SIGNAL_WORDS (GW_SYNTH_ST_COUNTRY + 1)

enum group { GROUP_SV, GROUP_SAMI, GROUP_FI, GROUPS };

/* ---- people and places ---- */

static const struct municipality {
	const char *code, *name;
	const char *sami_name, *sami_language; /* Sámi administrative area */
	const char *postal, *post_office;
	int weight[GROUPS];
} municipalities[] = {
    {"0180", "Stockholm", NULL, NULL, "11120", "Stockholm", {150, 2, 5}},
    {"1480", "Göteborg", NULL, NULL, "41105", "Göteborg", {90, 0, 2}},
    {"1280", "Malmö", NULL, NULL, "21120", "Malmö", {55, 0, 0}},
    {"0380", "Uppsala", NULL, NULL, "75320", "Uppsala", {35, 0, 1}},
    {"0580", "Linköping", NULL, NULL, "58222", "Linköping", {25, 0, 0}},
    {"1880", "Örebro", NULL, NULL, "70210", "Örebro", {25, 0, 0}},
    {"1980", "Västerås", NULL, NULL, "72211", "Västerås", {24, 0, 2}},
    {"1283", "Helsingborg", NULL, NULL, "25220", "Helsingborg", {22, 0, 0}},
    {"0680", "Jönköping", NULL, NULL, "55320", "Jönköping", {22, 0, 0}},
    {"2281", "Sundsvall", NULL, NULL, "85230", "Sundsvall", {15, 0, 0}},
    {"2480", "Umeå", "Ubmeje", "sju", "90326", "Umeå", {20, 6, 0}},
    {"2580", "Luleå", "Luleju", "smj", "97231", "Luleå", {15, 5, 2}},
    {"2380", "Östersund", "Staare", "sma", "83130", "Östersund", {12, 6, 0}},
    {"2510", "Jokkmokk", "Jåhkåmåhkke", "smj", "96231", "Jokkmokk", {2, 25, 0}},
    {"2584", "Kiruna", "Giron", "se", "98131", "Kiruna", {8, 25, 6}},
    {"2523", "Gällivare", "Jiellevárre", "smj", "98231", "Gällivare",
        {5, 15, 3}},
    {"2506", "Arjeplog", "Árjepluovve", "sje", "93090", "Arjeplog", {1, 8, 0}},
    {"2421", "Storuman", "Luspie", "sma", "92331", "Storuman", {2, 6, 0}},
    {"2361", "Härjedalen", "Herjedaelie", "sma", "84232", "Sveg", {3, 5, 0}},
    {"2583", "Haparanda", NULL, NULL, "95331", "Haparanda", {2, 0, 10}},
    {"2521", "Pajala", NULL, NULL, "98431", "Pajala", {1, 0, 8}},
};
#define MUNI_JOKKMOKK 13
#define MUNI_KIRUNA 14

static const char *const surnames_sv[] = {"Andersson", "Johansson", "Karlsson",
    "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
    "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson",
    "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Olofsson",
    "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg",
    "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg",
    "Henriksson", "Ljungberg", "Sjöberg", "Åberg", "Öberg", "Söderberg",
    "Håkansson", "Nordström"};
static const char *const male_sv[] = {"Lars", "Mikael", "Anders", "Johan",
    "Erik", "Per", "Karl", "Peter", "Thomas", "Jan", "Daniel", "Fredrik",
    "Hans", "Andreas", "Stefan", "Mats", "Magnus", "Oskar", "William", "Lucas",
    "Hugo", "Elias", "Björn", "Åke", "Göran", "Sören"};
static const char *const female_sv[] = {"Maria", "Elisabeth", "Anna",
    "Kristina", "Margareta", "Eva", "Linnéa", "Birgitta", "Karin", "Marie",
    "Ingrid", "Emma", "Sara", "Lena", "Kerstin", "Sofia", "Maja", "Elsa",
    "Ebba", "Agnes", "Alice", "Åsa", "Märta", "Siv", "Gunilla"};
static const char *const surnames_sami[] = {"Kuoljok", "Labba", "Nutti",
    "Pavval", "Blind", "Huuva", "Kitok", "Kuhmunen", "Länta", "Spik", "Sarri",
    "Omma", "Tuorda", "Päiviö", "Jannok", "Marakatt", "Jåma", "Fjällgren",
    "Kappfjell"};
static const char *const male_sami[] = {"Ánde", "Niillas", "Máhtte", "Jovnna",
    "Piera", "Nils", "Lars-Ánte", "Áslat"};
static const char *const female_sami[] = {
    "Máret", "Sunná", "Elle", "Ánne", "Biret", "Inga", "Sárá", "Risten"};
static const char *const surnames_fi[] = {"Niemi", "Keskitalo", "Alatalo",
    "Rova", "Kangas", "Vanhainen", "Lantto", "Poromaa", "Hietala"};
static const char *const male_fi[] = {
    "Matti", "Juha", "Kalle", "Erkki", "Tore", "Einar"};
static const char *const female_fi[] = {
    "Aino", "Liisa", "Hilja", "Anja", "Terttu", "Elin"};
static const char *const streets[] = {"Storgatan", "Kyrkogatan", "Skolgatan",
    "Parkvägen", "Strandvägen", "Björkvägen", "Tallvägen", "Vänervägen",
    "Järnvägsgatan", "Drottninggatan", "Kungsgatan", "Ringvägen", "Åsgatan",
    "Ängsvägen", "Fjällvägen", "Älvgatan"};

static const struct name_set {
	const char *const *surnames, *const *male, *const *female;
	long nsurnames, nmale, nfemale;
} name_sets[GROUPS] = {
    [GROUP_SV] = {surnames_sv, male_sv, female_sv,
        (long)GW_ARRAY_LEN(surnames_sv), (long)GW_ARRAY_LEN(male_sv),
        (long)GW_ARRAY_LEN(female_sv)},
    [GROUP_SAMI] = {surnames_sami, male_sami, female_sami,
        (long)GW_ARRAY_LEN(surnames_sami), (long)GW_ARRAY_LEN(male_sami),
        (long)GW_ARRAY_LEN(female_sami)},
    [GROUP_FI] = {surnames_fi, male_fi, female_fi,
        (long)GW_ARRAY_LEN(surnames_fi), (long)GW_ARRAY_LEN(male_fi),
        (long)GW_ARRAY_LEN(female_fi)},
};

/* Fixed Sámi people. */
static const struct fixed {
	long index;
	int municipality;
	const char *language, *given, *family, *street;
} fixed_sami[] = {
    {4, MUNI_JOKKMOKK, "smj", "Sunná Máret", "Kuoljok", "Storgatan 12"},
    {5, MUNI_KIRUNA, "se", "Niillas Ánde", "Labba", "Fjällvägen 4"},
};

/* ---- the engine's catalogue in Swedish ---- */

static const struct {
	const char *kodverk, *code, *name;
} diagnoses[GW_SYNTH_DX_COUNT] = {
    [GW_SYNTH_DX_DIABETES2] = {"ICD-10-SE", "E11.9",
        "Diabetes mellitus typ 2 utan komplikationer"},
    [GW_SYNTH_DX_HYPERTENSION] = {"KSH97-P", "I10-P", "Hypertoni"},
    [GW_SYNTH_DX_ASTHMA] = {"KSH97-P", "J45-P", "Astma"},
    [GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA] = {"ICD-10-SE", "E78.0",
        "Ren hyperkolesterolemi"},
    [GW_SYNTH_DX_ATRIAL_FIBRILLATION] = {"ICD-10-SE", "I48.9",
        "Förmaksflimmer och förmaksfladder, ospecificerat"},
    [GW_SYNTH_DX_KNEE_ARTHROSIS] = {"KSH97-P", "M17-P", "Knäledsartros"},
    [GW_SYNTH_DX_REFLUX] = {"ICD-10-SE", "K21.9",
        "Gastroesofageal refluxsjukdom utan esofagit"},
    [GW_SYNTH_DX_HYPOTHYROIDISM] = {"ICD-10-SE", "E03.9",
        "Hypotyreos, ospecificerad"},
    [GW_SYNTH_DX_MIGRAINE] = {"ICD-10-SE", "G43.9", "Migrän, ospecificerad"},
    [GW_SYNTH_DX_UPPER_RESPIRATORY_INFECTION] = {"KSH97-P", "J06-P",
        "Akut övre luftvägsinfektion"},
    [GW_SYNTH_DX_URINARY_INFECTION] = {"ICD-10-SE", "N39.0",
        "Urinvägsinfektion, ospecificerad lokalisation"},
    [GW_SYNTH_DX_RADIUS_FRACTURE] = {"ICD-10-SE", "S52.5",
        "Fraktur på nedre delen av radius"},
    [GW_SYNTH_DX_DEPRESSION] = {"KSH97-P", "F32-P", "Depression"},
    [GW_SYNTH_DX_ALCOHOL_DEPENDENCE] = {"ICD-10-SE", "F10.2",
        "Psykiska störningar och beteendestörningar orsakade av alkohol: "
        "beroendesyndrom"},
    [GW_SYNTH_DX_HIV] = {"ICD-10-SE", "B20",
        "HIV-sjukdom som ger upphov till infektionssjukdomar och "
        "parasitsjukdomar"},
    [GW_SYNTH_DX_CHLAMYDIA] = {"ICD-10-SE", "A56.0",
        "Klamydiainfektion i nedre delen av urin- och könsorganen"},
};

static const struct {
	const char *atc, *name, *strength, *dosage;
} medications[GW_SYNTH_MED_COUNT] = {
    [GW_SYNTH_MED_METFORMIN] = {"A10BA02", "Metformin Meda", "500 mg",
        "1 tablett 2 gånger dagligen i samband med måltid"},
    [GW_SYNTH_MED_RAS_BLOCKER] = {"C09AA02", "Enalapril Sandoz", "10 mg",
        "1 tablett dagligen"},
    [GW_SYNTH_MED_AMLODIPINE] = {"C08CA01", "Norvasc", "5 mg",
        "1 tablett på morgonen"},
    [GW_SYNTH_MED_SALBUTAMOL] = {"R03AC02", "Ventoline Evohaler", "0,1 mg/dos",
        "1–2 inhalationer vid behov"},
    [GW_SYNTH_MED_BUDESONIDE] = {"R03BA02", "Pulmicort Turbuhaler",
        "200 mikrogram/dos", "1 inhalation 2 gånger dagligen"},
    [GW_SYNTH_MED_ATORVASTATIN] = {"C10AA05", "Atorvastatin Krka", "20 mg",
        "1 tablett till kvällen"},
    [GW_SYNTH_MED_APIXABAN] = {"B01AF02", "Eliquis", "5 mg",
        "1 tablett 2 gånger dagligen"},
    [GW_SYNTH_MED_METOPROLOL] = {"C07AB02", "Seloken ZOC", "50 mg",
        "1 tablett dagligen"},
    [GW_SYNTH_MED_LEVOTHYROXINE] = {"H03AA01", "Levaxin", "100 mikrogram",
        "1 tablett på morgonen på fastande mage"},
    [GW_SYNTH_MED_PPI] = {"A02BC01", "Omeprazol Actavis", "20 mg",
        "1 kapsel på morgonen"},
    [GW_SYNTH_MED_PARACETAMOL] = {"N02BE01", "Alvedon", "500 mg",
        "1–2 tabletter vid behov, högst 4 gånger dagligen"},
    [GW_SYNTH_MED_SUMATRIPTAN] = {"N02CC01", "Imigran", "50 mg",
        "1 tablett vid anfall"},
    [GW_SYNTH_MED_UTI_ANTIBIOTIC] = {"J01CA08", "Selexid", "200 mg",
        "1 tablett 3 gånger dagligen i 3 dagar"},
    [GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC] = {"J01AA02", "Doxyferm", "100 mg",
        "2 tabletter första dagen, därefter 1 tablett dagligen i 8 dagar"},
    [GW_SYNTH_MED_IBUPROFEN] = {"M01AE01", "Ipren", "400 mg",
        "1 tablett vid behov, högst 3 gånger dagligen"},
    [GW_SYNTH_MED_VITAMIN_D] = {"A11CC05", "Detremin", "20 mikrogram/ml",
        "5 droppar dagligen"},
};

static const struct {
	const char *code, *name;
} allergens[GW_SYNTH_AG_COUNT] = {
    [GW_SYNTH_AG_PENICILLIN_V] = {"J01CE02", "Fenoximetylpenicillin"},
    [GW_SYNTH_AG_AMOXICILLIN] = {"J01CA04", "Amoxicillin"},
    [GW_SYNTH_AG_IBUPROFEN] = {"M01AE01", "Ibuprofen"},
    [GW_SYNTH_AG_ASA] = {"N02BA01", "Acetylsalicylsyra"},
    [GW_SYNTH_AG_SULFAMETHOXAZOLE_TRIMETHOPRIM] = {"J01EE01",
        "Sulfametoxazol och trimetoprim"},
    [GW_SYNTH_AG_PEANUT] = {"762952008", "Jordnöt"},
    [GW_SYNTH_AG_LATEX] = {"111088007", "Latex"},
};
static const char *const reactions[GW_SYNTH_RX_COUNT] = {
    [GW_SYNTH_RX_URTICARIA] = "urtikaria",
    [GW_SYNTH_RX_RASH] = "hudutslag",
    [GW_SYNTH_RX_NAUSEA] = "illamående",
    [GW_SYNTH_RX_ANGIOEDEMA] = "angioödem",
    [GW_SYNTH_RX_DYSPNOEA] = "andnöd",
    [GW_SYNTH_RX_ANAPHYLAXIS] = "anafylaxi",
};
static const char *const severities[] = {
    [GW_SYNTH_MILD] = "lindrig",
    [GW_SYNTH_MODERATE] = "måttlig",
    [GW_SYNTH_SEVERE] = "allvarlig",
};
static const char *const criticalities[] = {
    [GW_SYNTH_CRIT_LOW] = "låg",
    [GW_SYNTH_CRIT_HIGH] = "hög",
    [GW_SYNTH_CRIT_UNABLE_TO_ASSESS] = "ej bedömbar",
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
	const char *code, *name, *loinc, *unit;
} lab_tests[GW_SYNTH_LAB_COUNT] = {
    [GW_SYNTH_LAB_CREATININE] = {"NPU04998", "P-Kreatinin", "14682-9",
        "umol/L"},
    [GW_SYNTH_LAB_HBA1C] = {"NPU27300", "B-HbA1c", "59261-8", "mmol/mol"},
    [GW_SYNTH_LAB_LDL] = {"NPU10171", "P-LDL-kolesterol", "22748-8", "mmol/L"},
    [GW_SYNTH_LAB_CHOLESTEROL] = {"NPU01566", "P-Kolesterol", "14647-2",
        "mmol/L"},
    [GW_SYNTH_LAB_HDL] = {"NPU01567", "P-HDL-kolesterol", "14646-4", "mmol/L"},
    [GW_SYNTH_LAB_TRIGLYCERIDES] = {"NPU04094", "P-Triglycerid", "14927-8",
        "mmol/L"},
    [GW_SYNTH_LAB_GLUCOSE] = {"NPU22089", "P-Glukos", "14749-6", "mmol/L"},
    [GW_SYNTH_LAB_POTASSIUM] = {"NPU03230", "P-Kalium", "2823-3", "mmol/L"},
    [GW_SYNTH_LAB_SODIUM] = {"NPU03429", "P-Natrium", "2951-2", "mmol/L"},
    [GW_SYNTH_LAB_HAEMOGLOBIN] = {"NPU28309", "B-Hemoglobin (Hb)", "718-7",
        "g/L"},
    [GW_SYNTH_LAB_CRP] = {"NPU19748", "P-CRP", "1988-5", "mg/L"},
    [GW_SYNTH_LAB_TSH] = {"NPU03577", "S-TSH", NULL, "m[IU]/L"},
    [GW_SYNTH_LAB_ALT] = {"NPU19651", "P-ALAT", NULL, "ukat/L"},
};

static const struct gw_synth_country se_country =
    {
        .seed_base = 0x53574544454e2121ULL, /* "SWEDEN!!" */
        .fixed_people = FIXED_PEOPLE,
        .course_days =
            {
                [GW_SYNTH_MED_UTI_ANTIBIOTIC] = 3,
                [GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC] = 9,
                [GW_SYNTH_MED_IBUPROFEN] = 10,
            },
        /* Rotavirus from September 2019, MMR since 1982, HPV for girls born
         * 1999 and later from 2012, boys born 2009 and later. */
        .rota_born_from = {2019, 9, 1},
        .mmr_born_from = {1982, 1, 1},
        .hpv_start = {2012, 1, 1},
        .hpv_girls_from = 1999,
        .hpv_boys_from = 2009,
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
                    .ref_low = 27,
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
                    .ref_high = 44,
                    .mean = 40,
                    .spread = 3},
                [GW_SYNTH_LAB_SODIUM] = {.decimals = 0,
                    .ref_low = 137,
                    .ref_high = 145,
                    .mean = 140,
                    .spread = 3},
                [GW_SYNTH_LAB_HAEMOGLOBIN] = {.decimals = 0,
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
                    .ref_low = 40,
                    .ref_high = 370,
                    .mean = 180,
                    .spread = 80,
                    .has_effect = true,
                    .effect_dx = GW_SYNTH_DX_HYPOTHYROIDISM,
                    .effect_mean = 450,
                    .effect_spread = 200},
                /* Enzymes in µkat/L. */
                [GW_SYNTH_LAB_ALT] = {.decimals = 2,
                    .ref_low = 15,
                    .ref_high = 110,
                    .mean = 45,
                    .spread = 20,
                    .by_sex = true,
                    .sex_mean = {50, 40},
                    .sex_low = {15, 15},
                    .sex_high = {110, 75}},
            },
};

/* ---- people ---- */

struct person {
	struct gw_synth_person s;
	enum adapter_se_kind kind;
	char number[ADAPTER_SE_PNR_LEN + 1];
	enum group group;
	const struct municipality *muni;
	const struct fixed *fixed;
	const char *language;
};

static int
municipality_weight(long i, int group)
{
	return municipalities[i].weight[group];
}

static void
make_person(long index, void *out, const void *arg)
{
	struct person *p = out;
	struct gw_seed_rng r;
	long slot, day, y;
	int m, d, birth_number, sex;

	(void)arg;
	memset(p, 0, sizeof(*p));
	gw_seed_rng_init(&r, se_country.seed_base, index, GW_SYNTH_ST_PERSON);
	slot =
	    (long)(((uint64_t)index * SLOT_STEP + SLOT_ZERO) % (uint64_t)SLOTS);
	day = gw_civil_days(FIRST_YEAR, 1, 1) + slot / PER_DAY;
	birth_number = FIRST_BIRTH_NUMBER + (int)(slot % PER_DAY);
	sex = birth_number % 2 == 1 ? 1 : 2;
	/* Outside the slots' years, so still unique. */
	if (index == FIXED_CENTENARIAN)
		day = gw_civil_days(1921, 3, 15);

	for (size_t i = 0; i < GW_ARRAY_LEN(fixed_sami); i++)
		if (fixed_sami[i].index == index)
			p->fixed = &fixed_sami[i];
	p->kind = index == FIXED_SAMORDNING ||
	                  (index >= FIXED_PEOPLE && gw_seed_permille(&r, 20))
	              ? ADAPTER_SE_SAMORDNINGSNUMMER
	              : ADAPTER_SE_PERSONNUMMER;
	if (p->fixed != NULL) {
		p->group = GROUP_SAMI;
		p->muni = &municipalities[p->fixed->municipality];
		p->language = p->fixed->language;
	} else {
		p->group = gw_seed_permille(&r, 25)   ? GROUP_SAMI
		           : gw_seed_permille(&r, 25) ? GROUP_FI
		                                      : GROUP_SV;
		p->muni = &municipalities[gw_seed_weighted(&r,
		    (long)GW_ARRAY_LEN(municipalities), municipality_weight,
		    (int)p->group)];
		if (p->group == GROUP_SAMI)
			p->language = gw_seed_permille(&r, 500) &&
			                      p->muni->sami_language != NULL
			                  ? p->muni->sami_language
			                  : "sv";
		else if (p->group == GROUP_FI)
			p->language = gw_seed_permille(&r, 500) ? "fit" : "fi";
		else
			p->language = "sv";
	}
	gw_civil_from_days(day, &y, &m, &d);
	(void)adapter_se_ident_make(
	    p->kind, (int)y, m, d, birth_number, p->number);
	gw_synth_life(&se_country, index, day, sex, &r, &p->s);
}

/* ---- rows, one writer per table ---- */

static void
rows_patient(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	const struct gw_seed_key *k = arg;
	const struct name_set *ns = &name_sets[p->group];
	const char *family, *picked[3], *calling;
	char token[32], given[160], street[96], phone[24];
	struct gw_seed_rng r;
	long secs, number;
	int ngiven;

	gw_seed_rng_init(
	    &r, se_country.seed_base, p->s.index, GW_SYNTH_ST_NAME);
	if (p->fixed != NULL) {
		family = p->fixed->family;
		gw_strlcpy(given, p->fixed->given, sizeof(given));
		gw_strlcpy(street, p->fixed->street, sizeof(street));
		picked[0] = NULL;
		calling = NULL;
	} else {
		/* Sámi and Tornedalen families often use Swedish given
		 * names. */
		family = ns->surnames[gw_seed_below(&r, ns->nsurnames)];
		if (p->group != GROUP_SV && gw_seed_permille(&r, 400))
			ns = &name_sets[GROUP_SV];
		ngiven = gw_seed_given_names(&r,
		    p->s.sex == 1 ? ns->male : ns->female,
		    p->s.sex == 1 ? ns->nmale : ns->nfemale, picked, given,
		    sizeof(given));
		calling = gw_seed_permille(&r, 700)                 ? picked[0]
		          : ngiven > 1 && gw_seed_permille(&r, 600) ? picked[1]
		                                                    : NULL;
		number = gw_seed_range(&r, 1, 90);
		snprintf(street, sizeof(street), "%s %ld",
		    GW_SEED_PICK(&r, streets), number);
	}
	if (gw_adapter_token(k->key, k->len, "SE", p->number, token,
	        sizeof(token)) != GW_OK) {
		gw_error("se seed: cannot compute the id token");
		c->failed = true;
		return;
	}

	gw_seed_putf(c, "%ld", p->s.id);
	gw_seed_put(c, p->number);
	gw_seed_put(c, p->kind == ADAPTER_SE_SAMORDNINGSNUMMER
	                   ? "samordningsnummer"
	                   : "personnummer");
	gw_seed_put(c, token);
	gw_seed_put(c, given);
	if (p->fixed != NULL) {
		/* The first given name is the one in use. */
		char first[64];
		const char *space = strchr(given, ' ');
		size_t n = space ? (size_t)(space - given) : strlen(given);

		if (n >= sizeof(first))
			n = sizeof(first) - 1;
		memcpy(first, given, n);
		first[n] = '\0';
		gw_seed_put(c, first);
	} else {
		gw_seed_put(c, calling);
	}
	gw_seed_put(c, family);
	gw_seed_put(c, p->s.sex == 1 ? "M" : "K");
	gw_seed_put_date(c, p->s.birth);
	gw_seed_put(c, p->muni->code);
	gw_seed_put(c, p->muni->name);
	gw_seed_put(c, p->muni->sami_name);
	gw_seed_put(c, p->muni->sami_language);
	gw_seed_put(c, street);
	gw_seed_put(c, p->muni->postal);
	gw_seed_put(c, p->muni->post_office);
	if (gw_seed_permille(&r, 800)) {
		static const char *const prefixes[] = {"70", "72", "73", "76"};

		number = gw_seed_below(&r, 10000000);
		snprintf(phone, sizeof(phone), "+46%s%07ld",
		    GW_SEED_PICK(&r, prefixes), number);
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
rows_diagnos(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_diagnosis dx[GW_SYNTH_DX_COUNT];
	int n = gw_synth_diagnoses(&se_country, &p->s, dx);

	(void)arg;
	for (int i = 0; i < n; i++) {
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, diagnoses[dx[i].dx].kodverk);
		gw_seed_put(c, diagnoses[dx[i].dx].code);
		gw_seed_put(c, diagnoses[dx[i].dx].name);
		gw_seed_put(c, dx[i].chronic ? "aktuell" : "avslutad");
		gw_seed_put_date(c, dx[i].onset);
		gw_seed_put_timestamp(c, dx[i].recorded, dx[i].recorded_s);
		gw_seed_row_end(c);
	}
}

static void
rows_lakemedel(struct gw_seed_copy *c, const void *person, const void *arg)
{
	static const char *const states[] = {
	    [GW_SYNTH_ACTIVE] = "aktuell",
	    [GW_SYNTH_COMPLETED] = "avslutad",
	    [GW_SYNTH_STOPPED] = "utsatt",
	};
	const struct person *p = person;
	struct gw_synth_medication meds[GW_SYNTH_MAX_MEDICATIONS];
	int n = gw_synth_medications(&se_country, &p->s, meds);

	(void)arg;
	for (int i = 0; i < n; i++) {
		const struct gw_synth_medication *m = &meds[i];

		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, medications[m->med].atc);
		gw_seed_put(c, medications[m->med].name);
		gw_seed_put(c, medications[m->med].strength);
		gw_seed_put(c, medications[m->med].dosage);
		gw_seed_put_date(c, m->start);
		gw_seed_put_date(c, m->stop);
		gw_seed_put(c, states[m->status]);
		gw_seed_row_end(c);
	}
}

/* Hypersensitivities, then the treatment warning an anticoagulant brings
 * (a signal that is not an allergy, for the adapter to leave out). */
static void
rows_uppmarksamhetssignal(
    struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_allergy al[GW_SYNTH_MAX_ALLERGIES];
	struct gw_synth_medication meds[GW_SYNTH_MAX_MEDICATIONS];
	int n = gw_synth_allergies(&se_country, &p->s, al), nmeds;
	struct gw_seed_rng r;

	(void)arg;
	gw_seed_rng_init(&r, se_country.seed_base, p->s.index, ST_SIGNAL_WORDS);
	for (int i = 0; i < n; i++) {
		enum gw_synth_reaction rx = al[i].reaction;

		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, "överkänslighet");
		gw_seed_put(c, allergens[al[i].allergen].code);
		gw_seed_put(c, allergens[al[i].allergen].name);
		gw_seed_put(c, reactions[rx]);
		gw_seed_put(c, severities[gw_synth_reaction_severity(rx)]);
		gw_seed_put(
		    c, criticalities[gw_synth_reaction_criticality(rx)]);
		gw_seed_put(
		    c, gw_seed_permille(&r, 100) ? "misstänkt" : "bekräftad");
		gw_seed_put(c, NULL);
		gw_seed_put_date(c, al[i].day);
		gw_seed_row_end(c);
	}
	if (!(p->s.dx & 1u << GW_SYNTH_DX_ATRIAL_FIBRILLATION))
		return;
	nmeds = gw_synth_medications(&se_country, &p->s, meds);
	for (int i = 0; i < nmeds; i++) {
		if (meds[i].med != GW_SYNTH_MED_APIXABAN)
			continue;
		gw_seed_putf(c, "%ld", p->s.id);
		gw_seed_put(c, "behandling");
		gw_seed_put(c, NULL);
		gw_seed_put(c, NULL);
		gw_seed_put(c, NULL);
		gw_seed_put(c, NULL);
		gw_seed_put(c, NULL);
		gw_seed_put(c, "bekräftad");
		gw_seed_put(c, "Antikoagulantiabehandling (Eliquis)");
		gw_seed_put_date(c, meds[i].start);
		gw_seed_row_end(c);
	}
}

static void
rows_vaccination(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_vaccination vx[GW_SYNTH_MAX_VACCINATIONS];
	int n = gw_synth_vaccinations(&se_country, &p->s, vx);

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
rows_labbsvar(struct gw_seed_copy *c, const void *person, const void *arg)
{
	const struct person *p = person;
	struct gw_synth_lab_result lr[GW_SYNTH_MAX_LABS];
	int n = gw_synth_labs(&se_country, &p->s, lr);

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

static const struct gw_seed_table se_tables[] = {
    {"patient",
        "COPY se_register.patient (id, personid, personid_typ, fhir_id, "
        "fornamn, tilltalsnamn, efternamn, kon, fodelsedatum, kommunkod, "
        "kommun, kommun_samiskt_namn, kommun_samiskt_sprak, gatuadress, "
        "postnummer, postort, telefon, sprak, avliden_datum, andrad) "
        "FROM STDIN WITH (FREEZE)",
        rows_patient},
    {"diagnos",
        "COPY se_register.diagnos (patient_id, kodverk, kod, benamning, "
        "status, diagnosdatum, registrerad) FROM STDIN WITH (FREEZE)",
        rows_diagnos},
    {"lakemedel",
        "COPY se_register.lakemedel (patient_id, atc, lakemedelsnamn, "
        "styrka, dosering, startdatum, slutdatum, status) "
        "FROM STDIN WITH (FREEZE)",
        rows_lakemedel},
    {"uppmarksamhetssignal",
        "COPY se_register.uppmarksamhetssignal (patient_id, signaltyp, "
        "agens_kod, agens_namn, reaktion, allvarlighetsgrad, kritikalitet, "
        "visshetsgrad, beskrivning, registrerad) FROM STDIN WITH (FREEZE)",
        rows_uppmarksamhetssignal},
    {"vaccination",
        "COPY se_register.vaccination (patient_id, atc, vaccinnamn, "
        "vaccinationsdatum, dosnummer, batchnummer) "
        "FROM STDIN WITH (FREEZE)",
        rows_vaccination},
    {"labbsvar",
        "COPY se_register.labbsvar (patient_id, analyskod, analysnamn, "
        "loinc, resultat, enhet, ref_lag, ref_hog, provtagning) "
        "FROM STDIN WITH (FREEZE)",
        rows_labbsvar},
};

int
adapter_se_seed(PGconn *conn, long npatients, const unsigned char *id_key,
    size_t id_key_len)
{
	const struct gw_seed_key k = {id_key, id_key_len};
	const struct gw_seed_plan plan = {
	    .who = "se seed",
	    .truncate_sql = "TRUNCATE se_register.labbsvar, "
	                    "se_register.vaccination, "
	                    "se_register.uppmarksamhetssignal, "
	                    "se_register.lakemedel, se_register.diagnos, "
	                    "se_register.patient RESTART IDENTITY CASCADE",
	    .analyze_sql = "ANALYZE se_register.patient, se_register.diagnos, "
	                   "se_register.lakemedel, "
	                   "se_register.uppmarksamhetssignal, "
	                   "se_register.vaccination, se_register.labbsvar",
	    .tables = se_tables,
	    .ntables = GW_ARRAY_LEN(se_tables),
	    .person = make_person,
	    .person_size = sizeof(struct person),
	    .arg = &k,
	};

	if (conn == NULL || id_key == NULL || id_key_len == 0) {
		gw_error("se seed: no connection or no id key");
		return GW_ERR;
	}
	if (npatients < 0 || npatients > SLOTS) {
		gw_error("se seed: %ld patients: the synthetic series holds 0 "
		         "to %ld",
		    npatients, SLOTS);
		return GW_ERR;
	}
	return gw_seed_run(conn, &plan, npatients);
}
