#ifndef OTR_REPORT_STORE_H
#define OTR_REPORT_STORE_H
/*
 * Received reports, kept in <spool>/reports/: one file per report, written atomically,
 * named <first day>-<hash>.json where the hash is of (submitter, report-id), so the same
 * report received twice (two rua addresses, a resend, an ingest of a copy) is stored once
 * and no file name ever comes from the network.
 */
#include <stddef.h>
#include <time.h>

#include "inreport.h"

#define REPORT_STORE_DIR "reports"
/* The largest document the store writes for reports of at most max_report_size: the
 * normalized report, the text as received escaped (<= 2 x INREPORT_RAW_MAX) and the
 * envelope; report_store_open reads nothing larger. */
#define REPORT_STORE_FILE_MAX(max_report_size)                                                     \
    (INREPORT_STORED_MAX(max_report_size) + 2 * (size_t)INREPORT_RAW_MAX + 65536)

/* Where and how a report arrived, stored next to it. Strings may be NULL. */
typedef struct report_store_info {
    time_t received;
    const char *source;           /* "milter" or "ingest" */
    const char *dkim;             /* e.g. "pass", "fail", "none (not verified)" */
    int dkim_aligned;             /* DKIM d= matches the submitter (-1: unknown) */
    const char *header_domain;    /* TLS-Report-Domain */
    const char *header_submitter; /* TLS-Report-Submitter */
    const char *raw;              /* the report's JSON as received (read back only) */
} report_store_info;

typedef struct report_store report_store;

/* Opens (creating) the store under spool_dir for reports of at most max_report_size; files
 * over REPORT_STORE_FILE_MAX of it are never read. Returns NULL (errno set) when the
 * directory cannot be made; free with report_store_close. */
report_store *report_store_open(const char *spool_dir, size_t max_report_size);
report_store *report_store_close(report_store *st);
/* Stores r; returns 1 when stored, 0 when it was already there, -1 on error (errno set). */
int report_store_put(report_store *st, const inreport *r, const report_store_info *info);
/* Removes the reports of spool_dir whose first day is more than retention_days before
 * now's (as spool_expire does with journals); returns how many. */
size_t report_store_expire(const char *spool_dir, int retention_days, time_t now);
/* Calls fn on each stored report whose first day is >= since (YYYY-MM-DD, NULL: all), in
 * file name order; fn returning non-zero stops. Unreadable files are skipped with a warning.
 * Returns how many reports fn saw. */
size_t report_store_iterate(report_store *st, const char *since,
                            int (*fn)(const inreport *r, const report_store_info *info, void *ctx),
                            void *ctx);
#endif
