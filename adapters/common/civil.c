/*
 * civil.c: days from and to civil dates with the era algorithm (400-year
 * cycles of 146097 days), so any year converts without tables or libc
 * time zones.
 */
#include <time.h>

#include "adapters/common/civil.h"

bool
gw_civil_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
gw_civil_month_days(long y, int m)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && gw_civil_leap(y) ? 29 : mdays[m - 1];
}

bool
gw_civil_valid(long y, int m, int d)
{
	return d >= 1 && d <= gw_civil_month_days(y, m);
}

long
gw_civil_days(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
gw_civil_from_days(long z, long *y, int *m, int *d)
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
	*y = yoe + era * 400 + (*m <= 2);
}

void
gw_civil_today(long *y, int *m, int *d)
{
	time_t now = time(NULL);

	/* Whole days since the epoch; time_t is UTC seconds. */
	gw_civil_from_days(
	    (long)(now >= 0 ? now / 86400 : (now - 86399) / 86400), y, m, d);
}
