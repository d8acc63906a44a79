/*
 * synth.h: synthetic clinical histories, the same for every country.  The
 * engine decides who has which of a fixed set of conditions (by age and
 * sex), what medicines, allergies, vaccinations and laboratory results
 * follow from them, and when; a country seeder only names things (its
 * code systems, language and units, in catalogues indexed by the enums
 * below) and writes the events into its own tables.  So the three
 * registries differ in shape and vocabulary, not in epidemiology, and a
 * person is still a pure function of (country seed, index).
 *
 * PRNG streams (adapters/common/seed_common.h): GW_SYNTH_ST_* are the
 * engine's; a country may use GW_SYNTH_ST_PERSON for its own draws before
 * gw_synth_life() and GW_SYNTH_ST_NAME and streams from
 * GW_SYNTH_ST_COUNTRY on for anything else.
 */
#ifndef GW_ADAPTER_SYNTH_H
#define GW_ADAPTER_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "adapters/common/seed_common.h"

enum gw_synth_stream {
	GW_SYNTH_ST_PERSON = 1,
	GW_SYNTH_ST_DIAGNOSIS,
	GW_SYNTH_ST_MEDICATION,
	GW_SYNTH_ST_ALLERGY,
	GW_SYNTH_ST_VACCINATION,
	GW_SYNTH_ST_LAB,
	GW_SYNTH_ST_NAME,
	GW_SYNTH_ST_ONSET = 64,    /* + condition */
	GW_SYNTH_ST_COUNTRY = 128, /* and up: the country's own */
};

/* Conditions, in the order they are drawn. */
enum gw_synth_dx {
	GW_SYNTH_DX_DIABETES2,
	GW_SYNTH_DX_HYPERTENSION,
	GW_SYNTH_DX_ASTHMA,
	GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA,
	GW_SYNTH_DX_ATRIAL_FIBRILLATION,
	GW_SYNTH_DX_KNEE_ARTHROSIS,
	GW_SYNTH_DX_REFLUX,
	GW_SYNTH_DX_HYPOTHYROIDISM,
	GW_SYNTH_DX_MIGRAINE,
	GW_SYNTH_DX_UPPER_RESPIRATORY_INFECTION,
	GW_SYNTH_DX_URINARY_INFECTION,
	GW_SYNTH_DX_RADIUS_FRACTURE,
	/* Sensitive (adapters/common/category.c): kept rare. */
	GW_SYNTH_DX_DEPRESSION,
	GW_SYNTH_DX_ALCOHOL_DEPENDENCE,
	GW_SYNTH_DX_HIV,
	GW_SYNTH_DX_CHLAMYDIA,
	GW_SYNTH_DX_COUNT
};

/* Medicines: what each condition brings, and two unrelated ones. */
enum gw_synth_med {
	GW_SYNTH_MED_NONE = -1,
	GW_SYNTH_MED_METFORMIN,
	GW_SYNTH_MED_RAS_BLOCKER, /* ACE inhibitor or ARB, national habit */
	GW_SYNTH_MED_AMLODIPINE,
	GW_SYNTH_MED_SALBUTAMOL,
	GW_SYNTH_MED_BUDESONIDE,
	GW_SYNTH_MED_ATORVASTATIN,
	GW_SYNTH_MED_APIXABAN,
	GW_SYNTH_MED_METOPROLOL,
	GW_SYNTH_MED_LEVOTHYROXINE,
	GW_SYNTH_MED_PPI,
	GW_SYNTH_MED_PARACETAMOL,
	GW_SYNTH_MED_SUMATRIPTAN,
	GW_SYNTH_MED_UTI_ANTIBIOTIC,
	GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC,
	GW_SYNTH_MED_IBUPROFEN,
	GW_SYNTH_MED_VITAMIN_D,
	GW_SYNTH_MED_COUNT
};

enum gw_synth_allergen {
	GW_SYNTH_AG_PENICILLIN_V,
	GW_SYNTH_AG_AMOXICILLIN,
	GW_SYNTH_AG_IBUPROFEN,
	GW_SYNTH_AG_ASA,
	GW_SYNTH_AG_SULFAMETHOXAZOLE_TRIMETHOPRIM,
	GW_SYNTH_AG_PEANUT, /* SNOMED CT 762952008 */
	GW_SYNTH_AG_LATEX,  /* SNOMED CT 111088007 */
	GW_SYNTH_AG_COUNT
};

enum gw_synth_reaction {
	GW_SYNTH_RX_URTICARIA,
	GW_SYNTH_RX_RASH,
	GW_SYNTH_RX_NAUSEA,
	GW_SYNTH_RX_ANGIOEDEMA,
	GW_SYNTH_RX_DYSPNOEA,
	GW_SYNTH_RX_ANAPHYLAXIS,
	GW_SYNTH_RX_COUNT
};

/* A reaction's severity and criticality, as FHIR orders them. */
enum gw_synth_severity { GW_SYNTH_MILD, GW_SYNTH_MODERATE, GW_SYNTH_SEVERE };
enum gw_synth_criticality {
	GW_SYNTH_CRIT_LOW,
	GW_SYNTH_CRIT_HIGH,
	GW_SYNTH_CRIT_UNABLE_TO_ASSESS
};
enum gw_synth_severity gw_synth_reaction_severity(enum gw_synth_reaction rx);
enum gw_synth_criticality gw_synth_reaction_criticality(
    enum gw_synth_reaction rx);

enum gw_synth_vaccine {
	GW_SYNTH_VX_INFLUENZA,
	GW_SYNTH_VX_COVID,
	GW_SYNTH_VX_DIPHTHERIA_TETANUS,
	GW_SYNTH_VX_MMR,
	GW_SYNTH_VX_HEPATITIS_B,
	GW_SYNTH_VX_HPV,
	GW_SYNTH_VX_ROTAVIRUS,
	GW_SYNTH_VX_COUNT
};

enum gw_synth_lab {
	GW_SYNTH_LAB_CREATININE,
	GW_SYNTH_LAB_HBA1C,
	GW_SYNTH_LAB_LDL,
	GW_SYNTH_LAB_CHOLESTEROL,
	GW_SYNTH_LAB_HDL,
	GW_SYNTH_LAB_TRIGLYCERIDES,
	GW_SYNTH_LAB_GLUCOSE,
	GW_SYNTH_LAB_POTASSIUM,
	GW_SYNTH_LAB_SODIUM,
	GW_SYNTH_LAB_HAEMOGLOBIN,
	GW_SYNTH_LAB_CRP,
	GW_SYNTH_LAB_TSH,
	GW_SYNTH_LAB_ALT,
	GW_SYNTH_LAB_COUNT
};

/* How a laboratory value is drawn, in the country's unit: integers scaled
 * by 10^decimals; -1 for an absent reference limit. */
struct gw_synth_lab_values {
	int decimals;
	int ref_low, ref_high;
	int mean, spread;
	/* Per sex (0 male, 1 female): when by_sex, these replace mean and
	 * the limits. */
	bool by_sex;
	int sex_mean[2], sex_low[2], sex_high[2];
	/* What a condition does to it: with effect_add the mean moves by
	 * effect_mean, otherwise mean and spread become effect_mean and
	 * effect_spread. */
	bool has_effect;
	enum gw_synth_dx effect_dx;
	bool effect_add;
	int effect_mean, effect_spread;
};

/* A calendar date in a catalogue. */
struct gw_synth_date {
	int y, m, d;
};

/* What differs between countries beyond names. */
struct gw_synth_country {
	uint64_t seed_base;
	/* People with index below this are alive whatever their age, and
	 * indexes 0-3 have fixed conditions (see gw_synth_life). */
	long fixed_people;
	/* Medicine course lengths in days (0: continuous). */
	int course_days[GW_SYNTH_MED_COUNT];
	/* The vaccination programme: rotavirus for those born on or after
	 * rota_born_from, MMR from mmr_born_from, HPV for girls born from
	 * year hpv_girls_from and boys from hpv_boys_from, given from
	 * hpv_start. */
	struct gw_synth_date rota_born_from, mmr_born_from, hpv_start;
	int hpv_girls_from, hpv_boys_from;
	struct gw_synth_lab_values labs[GW_SYNTH_LAB_COUNT];
};

/* A person as the engine knows it. */
struct gw_synth_person {
	long index;
	long id;           /* registry key: index + 1 */
	long birth, death; /* days; death GW_SEED_NO_DAY when alive */
	long end;          /* last day with records */
	int age;           /* whole years at end */
	int by, bm, bd;    /* birth date */
	int sex;           /* 1 male, 2 female */
	uint32_t dx;       /* bit i: enum gw_synth_dx i */
};

/* "Today" of every synthetic registry (2025-06-30), fixed for determinism. */
long gw_synth_reference_day(void);

/*
 * Set p->index, p->id, the birth date from birth (days) and sex, then draw
 * from r (the person's GW_SYNTH_ST_PERSON stream, after the country's own
 * draws) death, end, age and conditions.  Fixed people: index 0 has
 * diabetes, hypertension, hypercholesterolaemia and an upper respiratory
 * infection (records in all five sections, nothing sensitive); 1
 * depression and asthma; 2 alcohol dependence and hypertension; 3 HIV.
 */
void gw_synth_life(const struct gw_synth_country *cc, long index, long birth,
    int sex, struct gw_seed_rng *r, struct gw_synth_person *p);

/* Bounds of the event lists below. */
#define GW_SYNTH_MAX_MEDICATIONS 8
#define GW_SYNTH_MAX_VACCINATIONS 6
#define GW_SYNTH_MAX_ALLERGIES 2
#define GW_SYNTH_MAX_LABS 10

struct gw_synth_diagnosis {
	enum gw_synth_dx dx;
	bool chronic;
	long onset;                /* day */
	long recorded, recorded_s; /* day and second of the day */
};

enum gw_synth_status { GW_SYNTH_ACTIVE, GW_SYNTH_COMPLETED, GW_SYNTH_STOPPED };

struct gw_synth_medication {
	enum gw_synth_med med;
	long start, stop; /* stop GW_SEED_NO_DAY while taken */
	enum gw_synth_status status;
};

struct gw_synth_allergy {
	enum gw_synth_allergen allergen;
	enum gw_synth_reaction reaction;
	long day;
};

struct gw_synth_vaccination {
	enum gw_synth_vaccine vaccine;
	long day;
	int dose;
	long lot; /* 0-9999 */
};

struct gw_synth_lab_result {
	enum gw_synth_lab lab;
	long value;     /* scaled by 10^decimals */
	long low, high; /* -1: none */
	int decimals;
	long day, secs;
};

/* p's events, in the order they are written; each returns the count. */
int gw_synth_diagnoses(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_diagnosis out[GW_SYNTH_DX_COUNT]);
int gw_synth_medications(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_medication out[GW_SYNTH_MAX_MEDICATIONS]);
int gw_synth_allergies(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_allergy out[GW_SYNTH_MAX_ALLERGIES]);
int gw_synth_vaccinations(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_vaccination out[GW_SYNTH_MAX_VACCINATIONS]);
int gw_synth_labs(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_lab_result out[GW_SYNTH_MAX_LABS]);

#endif
