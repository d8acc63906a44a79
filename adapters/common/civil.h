/*
 * civil.h: proleptic Gregorian calendar arithmetic shared by the adapters:
 * validating the birth dates inside national identifiers, converting
 * registry timestamps to UTC, and laying out the synthetic registries'
 * dates.  Days are counted from 1970-01-01 (negative before).
 */
#ifndef GW_ADAPTER_CIVIL_H
#define GW_ADAPTER_CIVIL_H

#include <stdbool.h>

/* True for a Gregorian leap year. */
bool gw_civil_leap(long y);

/* Days in month m (1-12) of year y; 0 for a month out of range. */
int gw_civil_month_days(long y, int m);

/* True when y-m-d is a real calendar date (any year). */
bool gw_civil_valid(long y, int m, int d);

/* Days since 1970-01-01 of y-m-d (which must be valid). */
long gw_civil_days(long y, int m, int d);

/* The date of a day number into *y, *m, *d. */
void gw_civil_from_days(long z, long *y, int *m, int *d);

/* Today's date in UTC into *y, *m, *d (the system clock). */
void gw_civil_today(long *y, int *m, int *d);

#endif
