/*
 * synth.c: the synthetic clinical histories of synth.h.  Every draw comes
 * from a stream keyed by (country seed, person index, purpose), so each
 * table's pass regenerates exactly what the others saw without keeping
 * state: a condition's onset day, for instance, has a stream of its own
 * and is the same whether the diagnosis or the medication pass asks.
 * The epidemiology below is a plausible demo, not a model of any real
 * population.
 */
#include <string.h>

#include "adapters/common/civil.h"
#include "adapters/common/synth.h"
#include "gateway/gw.h"

#define MAX_DIAGNOSES 6

/* Who gets a condition (age and probability) and its medicines. */
static const struct dx_epi {
	bool chronic;
	int min_age; /* years */
	int old_age; /* at or above: permille_old */
	int permille_young, permille_old;
	enum gw_synth_med meds[2];
} dx_epi[GW_SYNTH_DX_COUNT] = {
    [GW_SYNTH_DX_DIABETES2] = {true, 30, 50, 15, 110,
        {GW_SYNTH_MED_METFORMIN, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_HYPERTENSION] = {true, 25, 50, 30, 280,
        {GW_SYNTH_MED_RAS_BLOCKER, GW_SYNTH_MED_AMLODIPINE}},
    [GW_SYNTH_DX_ASTHMA] = {true, 3, 200, 70, 70,
        {GW_SYNTH_MED_SALBUTAMOL, GW_SYNTH_MED_BUDESONIDE}},
    [GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA] = {true, 30, 50, 30, 150,
        {GW_SYNTH_MED_ATORVASTATIN, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_ATRIAL_FIBRILLATION] = {true, 45, 65, 10, 90,
        {GW_SYNTH_MED_APIXABAN, GW_SYNTH_MED_METOPROLOL}},
    [GW_SYNTH_DX_KNEE_ARTHROSIS] = {true, 40, 60, 10, 90,
        {GW_SYNTH_MED_PARACETAMOL, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_REFLUX] = {true, 18, 200, 45, 45,
        {GW_SYNTH_MED_PPI, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_HYPOTHYROIDISM] = {true, 18, 200, 40, 40,
        {GW_SYNTH_MED_LEVOTHYROXINE, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_MIGRAINE] = {true, 12, 200, 40, 40,
        {GW_SYNTH_MED_SUMATRIPTAN, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_UPPER_RESPIRATORY_INFECTION] = {false, 0, 200, 250, 250,
        {GW_SYNTH_MED_NONE, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_URINARY_INFECTION] = {false, 15, 200, 80, 80,
        {GW_SYNTH_MED_UTI_ANTIBIOTIC, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_RADIUS_FRACTURE] = {false, 5, 60, 25, 40,
        {GW_SYNTH_MED_NONE, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_DEPRESSION] = {true, 15, 200, 30, 30,
        {GW_SYNTH_MED_NONE, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_ALCOHOL_DEPENDENCE] = {true, 20, 200, 10, 10,
        {GW_SYNTH_MED_NONE, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_HIV] = {true, 18, 200, 3, 3,
        {GW_SYNTH_MED_NONE, GW_SYNTH_MED_NONE}},
    [GW_SYNTH_DX_CHLAMYDIA] = {false, 15, 200, 10, 10,
        {GW_SYNTH_MED_CHLAMYDIA_ANTIBIOTIC, GW_SYNTH_MED_NONE}},
};

static const struct {
	enum gw_synth_severity severity;
	enum gw_synth_criticality criticality;
} reactions[GW_SYNTH_RX_COUNT] = {
    [GW_SYNTH_RX_URTICARIA] = {GW_SYNTH_MILD, GW_SYNTH_CRIT_LOW},
    [GW_SYNTH_RX_RASH] = {GW_SYNTH_MILD, GW_SYNTH_CRIT_LOW},
    [GW_SYNTH_RX_NAUSEA] = {GW_SYNTH_MILD, GW_SYNTH_CRIT_UNABLE_TO_ASSESS},
    [GW_SYNTH_RX_ANGIOEDEMA] = {GW_SYNTH_MODERATE, GW_SYNTH_CRIT_HIGH},
    [GW_SYNTH_RX_DYSPNOEA] = {GW_SYNTH_MODERATE, GW_SYNTH_CRIT_HIGH},
    [GW_SYNTH_RX_ANAPHYLAXIS] = {GW_SYNTH_SEVERE, GW_SYNTH_CRIT_HIGH},
};

#define BIT(dx) (1u << (dx))

static long
days_of(const struct gw_synth_date *d)
{
	return gw_civil_days(d->y, d->m, d->d);
}

enum gw_synth_severity
gw_synth_reaction_severity(enum gw_synth_reaction rx)
{
	return reactions[rx].severity;
}

enum gw_synth_criticality
gw_synth_reaction_criticality(enum gw_synth_reaction rx)
{
	return reactions[rx].criticality;
}

long
gw_synth_reference_day(void)
{
	return gw_civil_days(2025, 6, 30);
}

static int
diagnosis_permille(enum gw_synth_dx dx, const struct gw_synth_person *p)
{
	const struct dx_epi *e = &dx_epi[dx];
	int pm;

	if (p->age < e->min_age)
		return 0;
	pm = p->age >= e->old_age ? e->permille_old : e->permille_young;
	if (dx == GW_SYNTH_DX_HYPOTHYROIDISM && p->sex == 2)
		pm *= 2;
	return pm;
}

void
gw_synth_life(const struct gw_synth_country *cc, long index, long birth,
    int sex, struct gw_seed_rng *r, struct gw_synth_person *p)
{
	long by;
	int n;

	memset(p, 0, sizeof(*p));
	p->index = index;
	p->id = index + 1;
	p->birth = birth;
	p->sex = sex;
	gw_civil_from_days(birth, &by, &p->bm, &p->bd);
	p->by = (int)by;

	p->death = GW_SEED_NO_DAY;
	p->end = gw_synth_reference_day();
	n = (int)((p->end - p->birth) * 100 / 36525);
	if (index >= cc->fixed_people && n >= 60 &&
	    gw_seed_permille(r, (n - 55) * 3)) {
		long lo = p->birth + gw_seed_years(60);

		if (lo < p->end - gw_seed_years(15))
			lo = p->end - gw_seed_years(15);
		p->death = gw_seed_range(r, lo, p->end);
		p->end = p->death;
	}
	p->age = (int)((p->end - p->birth) * 100 / 36525);

	/* Fixed people first, then chance. */
	switch (index) {
	case 0:
		p->dx = BIT(GW_SYNTH_DX_DIABETES2) |
		        BIT(GW_SYNTH_DX_HYPERTENSION) |
		        BIT(GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA) |
		        BIT(GW_SYNTH_DX_UPPER_RESPIRATORY_INFECTION);
		return;
	case 1:
		p->dx = BIT(GW_SYNTH_DX_DEPRESSION) | BIT(GW_SYNTH_DX_ASTHMA);
		return;
	case 2:
		p->dx = BIT(GW_SYNTH_DX_ALCOHOL_DEPENDENCE) |
		        BIT(GW_SYNTH_DX_HYPERTENSION);
		return;
	case 3:
		p->dx = BIT(GW_SYNTH_DX_HIV);
		return;
	default:
		break;
	}
	n = 0;
	for (int i = 0; i < GW_SYNTH_DX_COUNT && n < MAX_DIAGNOSES; i++) {
		if (gw_seed_permille(
		        r, diagnosis_permille((enum gw_synth_dx)i, p))) {
			p->dx |= BIT(i);
			n++;
		}
	}
}

/* Onset day of condition i for p, the same in every pass. */
static long
onset_day(
    const struct gw_synth_country *cc, const struct gw_synth_person *p, int i)
{
	struct gw_seed_rng r;
	long lo = p->birth + gw_seed_years(dx_epi[i].min_age);

	gw_seed_rng_init(
	    &r, cc->seed_base, p->index, GW_SYNTH_ST_ONSET + (unsigned)i);
	if (lo > p->end)
		lo = p->end;
	/* Chronic conditions are found over a lifetime; short illnesses in
	 * the last few years, where the registry keeps them. */
	if (!dx_epi[i].chronic && lo < p->end - gw_seed_years(5))
		lo = p->end - gw_seed_years(5);
	return gw_seed_range(&r, lo, p->end);
}

int
gw_synth_diagnoses(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_diagnosis out[GW_SYNTH_DX_COUNT])
{
	struct gw_seed_rng r;
	int n = 0;

	gw_seed_rng_init(&r, cc->seed_base, p->index, GW_SYNTH_ST_DIAGNOSIS);
	for (int i = 0; i < GW_SYNTH_DX_COUNT; i++) {
		struct gw_synth_diagnosis *d;

		if (!(p->dx & BIT(i)))
			continue;
		d = &out[n++];
		d->dx = (enum gw_synth_dx)i;
		d->chronic = dx_epi[i].chronic;
		d->onset = onset_day(cc, p, i);
		d->recorded = d->onset + gw_seed_below(&r, 31);
		if (d->recorded > p->end)
			d->recorded = p->end;
		d->recorded_s = gw_seed_range(&r, 5 * 3600, 14 * 3600);
	}
	return n;
}

static void
medication(const struct gw_synth_country *cc, struct gw_seed_rng *r,
    const struct gw_synth_person *p, enum gw_synth_med med, long start,
    struct gw_synth_medication *m)
{
	long stop = GW_SEED_NO_DAY;
	enum gw_synth_status status = GW_SYNTH_ACTIVE;

	if (start > p->end)
		start = p->end;
	if (cc->course_days[med] > 0) {
		stop = start + cc->course_days[med];
		status = GW_SYNTH_COMPLETED;
	} else if (p->death != GW_SEED_NO_DAY) {
		stop = p->death;
		status = GW_SYNTH_COMPLETED;
	} else if (gw_seed_permille(r, 80)) {
		stop = gw_seed_range(r, start, p->end);
		status = GW_SYNTH_COMPLETED;
	} else if (gw_seed_permille(r, 20)) {
		stop = gw_seed_range(r, start, p->end);
		status = GW_SYNTH_STOPPED;
	}
	if (stop > p->end)
		stop = p->end;
	m->med = med;
	m->start = start;
	m->stop = stop;
	m->status = status;
}

int
gw_synth_medications(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_medication out[GW_SYNTH_MAX_MEDICATIONS])
{
	struct gw_seed_rng r;
	int n = 0;
	long extras;

	gw_seed_rng_init(&r, cc->seed_base, p->index, GW_SYNTH_ST_MEDICATION);
	for (int i = 0; i < GW_SYNTH_DX_COUNT; i++) {
		long onset;

		if (!(p->dx & BIT(i)))
			continue;
		onset = onset_day(cc, p, i);
		for (int j = 0; j < 2 && n < GW_SYNTH_MAX_MEDICATIONS; j++) {
			long start;

			if (dx_epi[i].meds[j] == GW_SYNTH_MED_NONE)
				continue;
			start = onset + gw_seed_below(&r, 61);
			medication(
			    cc, &r, p, dx_epi[i].meds[j], start, &out[n]);
			n++;
		}
	}
	if (p->age < 12)
		return n;
	/* Up to two of the rows after the condition-bound ones. */
	extras = gw_seed_permille(&r, 600)   ? 0
	         : gw_seed_permille(&r, 750) ? 1
	                                     : 2;
	for (long e = 0; e < extras && n < GW_SYNTH_MAX_MEDICATIONS; e++, n++) {
		long lo = p->birth + gw_seed_years(12), start;

		if (lo < p->end - gw_seed_years(5))
			lo = p->end - gw_seed_years(5);
		start = gw_seed_range(&r, lo, p->end);
		medication(cc, &r, p,
		    (enum gw_synth_med)(GW_SYNTH_MED_IBUPROFEN + e), start,
		    &out[n]);
	}
	return n;
}

int
gw_synth_allergies(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_allergy out[GW_SYNTH_MAX_ALLERGIES])
{
	struct gw_seed_rng r;
	long n, first = -1;
	int count = 0;

	gw_seed_rng_init(&r, cc->seed_base, p->index, GW_SYNTH_ST_ALLERGY);
	if (p->index == 0)
		n = 1;
	else
		n = gw_seed_permille(&r, 800)   ? 0
		    : gw_seed_permille(&r, 750) ? 1
		                                : 2;
	for (long i = 0; i < n && count < GW_SYNTH_MAX_ALLERGIES; i++) {
		long a = gw_seed_below(&r, GW_SYNTH_AG_COUNT);
		long rx = gw_seed_below(&r, GW_SYNTH_RX_COUNT);

		if (a == first)
			continue;
		first = a;
		out[count].allergen = (enum gw_synth_allergen)a;
		out[count].reaction = (enum gw_synth_reaction)rx;
		out[count].day = gw_seed_range(&r,
		    p->birth + 365 < p->end ? p->birth + 365 : p->birth,
		    p->end);
		count++;
	}
	return count;
}

#define VX_LIST 24

static void
add_vaccination(struct gw_synth_vaccination *list, int *n,
    const struct gw_synth_person *p, long day, enum gw_synth_vaccine v,
    int dose)
{
	if (*n >= VX_LIST || day < p->birth || day > p->end)
		return;
	list[*n].day = day;
	list[*n].vaccine = v;
	list[*n].dose = dose;
	list[*n].lot = 0;
	(*n)++;
}

int
gw_synth_vaccinations(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_vaccination out[GW_SYNTH_MAX_VACCINATIONS])
{
	struct gw_synth_vaccination list[VX_LIST];
	struct gw_seed_rng r;
	int n = 0, count = 0;
	long d;

	gw_seed_rng_init(&r, cc->seed_base, p->index, GW_SYNTH_ST_VACCINATION);
	if (p->birth >= days_of(&cc->rota_born_from)) {
		d = p->birth + gw_seed_range(&r, 42, 70);
		add_vaccination(list, &n, p, d, GW_SYNTH_VX_ROTAVIRUS, 1);
		add_vaccination(list, &n, p, d + gw_seed_range(&r, 28, 42),
		    GW_SYNTH_VX_ROTAVIRUS, 2);
	}
	if (p->birth >= days_of(&cc->mmr_born_from)) {
		add_vaccination(list, &n, p,
		    p->birth + gw_seed_range(&r, 425, 545), GW_SYNTH_VX_MMR, 1);
		add_vaccination(list, &n, p,
		    p->birth + gw_seed_years(6) + gw_seed_below(&r, 200),
		    GW_SYNTH_VX_MMR, 2);
	}
	if ((p->sex == 2 && p->by >= cc->hpv_girls_from) ||
	    (p->sex == 1 && p->by >= cc->hpv_boys_from)) {
		d = p->birth + gw_seed_years(11) + gw_seed_below(&r, 365);
		if (d >= days_of(&cc->hpv_start)) {
			add_vaccination(list, &n, p, d, GW_SYNTH_VX_HPV, 1);
			add_vaccination(list, &n, p,
			    d + gw_seed_range(&r, 180, 365), GW_SYNTH_VX_HPV,
			    2);
		}
	}
	if (p->age >= 25) {
		long lo = p->birth + gw_seed_years(25);

		if (lo < p->end - gw_seed_years(10))
			lo = p->end - gw_seed_years(10);
		add_vaccination(list, &n, p, gw_seed_range(&r, lo, p->end),
		    GW_SYNTH_VX_DIPHTHERIA_TETANUS, 1);
	}
	if (p->age >= 65 || gw_seed_permille(&r, 250)) {
		for (int y = 2019; y <= 2024; y++)
			if (gw_seed_permille(&r, 600))
				add_vaccination(list, &n, p,
				    gw_civil_days(y, 10, 15) +
				        gw_seed_below(&r, 46),
				    GW_SYNTH_VX_INFLUENZA, 1);
	}
	if (p->by <= 2009 && gw_seed_permille(&r, 850)) {
		d = gw_civil_days(2021, 5, 1) + gw_seed_below(&r, 91);
		if (d >= p->birth + gw_seed_years(12)) {
			add_vaccination(list, &n, p, d, GW_SYNTH_VX_COVID, 1);
			add_vaccination(list, &n, p,
			    d + gw_seed_range(&r, 42, 84), GW_SYNTH_VX_COVID,
			    2);
			if (gw_seed_permille(&r, 700))
				add_vaccination(list, &n, p,
				    gw_civil_days(2022, 1, 1) +
				        gw_seed_below(&r, 76),
				    GW_SYNTH_VX_COVID, 3);
		}
	}
	if (p->age >= 18 && gw_seed_permille(&r, 50)) {
		long lo = p->birth + gw_seed_years(18);

		if (lo < p->end - gw_seed_years(20))
			lo = p->end - gw_seed_years(20);
		d = gw_seed_range(&r, lo, p->end);
		add_vaccination(list, &n, p, d, GW_SYNTH_VX_HEPATITIS_B, 1);
		add_vaccination(
		    list, &n, p, d + 30, GW_SYNTH_VX_HEPATITIS_B, 2);
		add_vaccination(
		    list, &n, p, d + 180, GW_SYNTH_VX_HEPATITIS_B, 3);
	}
	if (n == 0) {
		/* Everyone has at least one. */
		if (p->age >= 14)
			add_vaccination(list, &n, p,
			    gw_seed_range(
			        &r, p->birth + gw_seed_years(14), p->end),
			    GW_SYNTH_VX_DIPHTHERIA_TETANUS, 1);
		else
			add_vaccination(list, &n, p, p->birth + 60,
			    GW_SYNTH_VX_ROTAVIRUS, 1);
	}
	/* Chronological order (insertion sort: a handful of rows); the
	 * registry keeps the latest GW_SYNTH_MAX_VACCINATIONS. */
	for (int i = 1; i < n; i++) {
		struct gw_synth_vaccination v = list[i];
		int j = i;

		while (j > 0 && list[j - 1].day > v.day) {
			list[j] = list[j - 1];
			j--;
		}
		list[j] = v;
	}
	for (int i = n > GW_SYNTH_MAX_VACCINATIONS
	                 ? n - GW_SYNTH_MAX_VACCINATIONS
	                 : 0;
	     i < n; i++) {
		out[count] = list[i];
		out[count].lot = gw_seed_below(&r, 10000);
		count++;
	}
	return count;
}

static void
lab_result(const struct gw_synth_country *cc, struct gw_seed_rng *r,
    const struct gw_synth_person *p, enum gw_synth_lab t, long day, long secs,
    struct gw_synth_lab_result *out)
{
	const struct gw_synth_lab_values *l = &cc->labs[t];
	int mean = l->mean, spread = l->spread, low = l->ref_low;
	int high = l->ref_high;
	long v;

	/* Sex-specific ranges and what the person's conditions do. */
	if (l->by_sex) {
		int s = p->sex == 1 ? 0 : 1;

		mean = l->sex_mean[s];
		low = l->sex_low[s];
		high = l->sex_high[s];
	}
	if (l->has_effect && p->dx & BIT(l->effect_dx)) {
		if (l->effect_add) {
			mean += l->effect_mean;
		} else {
			mean = l->effect_mean;
			spread = l->effect_spread;
		}
	}
	v = mean + (gw_seed_range(r, -spread, spread) +
	               gw_seed_range(r, -spread, spread)) /
	               2;
	if (v < 1)
		v = 1;
	out->lab = t;
	out->value = v;
	out->low = low;
	out->high = high;
	out->decimals = l->decimals;
	out->day = day;
	out->secs = secs;
}

int
gw_synth_labs(const struct gw_synth_country *cc,
    const struct gw_synth_person *p,
    struct gw_synth_lab_result out[GW_SYNTH_MAX_LABS])
{
	enum gw_synth_lab tests[GW_SYNTH_MAX_LABS];
	bool seen[GW_SYNTH_LAB_COUNT];
	struct gw_seed_rng r;
	long day, secs, lo, extras;
	int n = 0, count = 0;

	memset(seen, 0, sizeof(seen));
	gw_seed_rng_init(&r, cc->seed_base, p->index, GW_SYNTH_ST_LAB);
#define WANT(t)                                                                \
	do {                                                                   \
		if (!seen[t] && n < GW_SYNTH_MAX_LABS) {                       \
			seen[t] = true;                                        \
			tests[n++] = (t);                                      \
		}                                                              \
	} while (0)
	if (p->dx & BIT(GW_SYNTH_DX_DIABETES2)) {
		WANT(GW_SYNTH_LAB_HBA1C);
		WANT(GW_SYNTH_LAB_GLUCOSE);
		WANT(GW_SYNTH_LAB_CREATININE);
	}
	if (p->dx & (BIT(GW_SYNTH_DX_DIABETES2) |
	                BIT(GW_SYNTH_DX_HYPERCHOLESTEROLAEMIA) |
	                BIT(GW_SYNTH_DX_HYPERTENSION))) {
		WANT(GW_SYNTH_LAB_LDL);
		WANT(GW_SYNTH_LAB_CHOLESTEROL);
		WANT(GW_SYNTH_LAB_HDL);
		WANT(GW_SYNTH_LAB_TRIGLYCERIDES);
	}
	if (p->dx & BIT(GW_SYNTH_DX_HYPERTENSION)) {
		WANT(GW_SYNTH_LAB_CREATININE);
		WANT(GW_SYNTH_LAB_POTASSIUM);
		WANT(GW_SYNTH_LAB_SODIUM);
	}
	if (p->dx & BIT(GW_SYNTH_DX_HYPOTHYROIDISM))
		WANT(GW_SYNTH_LAB_TSH);
	extras = gw_seed_permille(&r, 450) ? 0 : gw_seed_range(&r, 1, 3);
	if (p->index == 0 && extras == 0)
		extras = 1;
	for (long e = 0; e < extras; e++) {
		static const enum gw_synth_lab pool[] = {
		    GW_SYNTH_LAB_HAEMOGLOBIN, GW_SYNTH_LAB_CRP,
		    GW_SYNTH_LAB_ALT, GW_SYNTH_LAB_CREATININE,
		    GW_SYNTH_LAB_TSH};

		WANT(GW_SEED_PICK(&r, pool));
	}
#undef WANT
	/* One visit: the panel shares its sampling time. */
	lo = p->end - gw_seed_years(3);
	if (lo < p->birth)
		lo = p->birth;
	day = gw_seed_range(&r, lo, p->end);
	secs = gw_seed_range(&r, 5 * 3600, 9 * 3600);
	for (int i = 0; i < n; i++)
		lab_result(cc, &r, p, tests[i], day, secs, &out[count++]);
	/* Diabetics: the previous HbA1c half a year earlier. */
	if (seen[GW_SYNTH_LAB_HBA1C] && n < GW_SYNTH_MAX_LABS &&
	    day - 210 >= p->birth) {
		long before = day - gw_seed_range(&r, 150, 210);

		lab_result(
		    cc, &r, p, GW_SYNTH_LAB_HBA1C, before, secs, &out[count++]);
	}
	return count;
}
