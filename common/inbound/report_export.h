#ifndef OTR_REPORT_EXPORT_H
#define OTR_REPORT_EXPORT_H
/*
 * Received reports for other tools, in the field names of parsedmarc's SMTP TLS output
 * (organization_name, begin_date, ..., failure_details), so an Elasticsearch, Splunk or
 * Grafana set-up built for parsedmarc takes them as they are: CSV with parsedmarc's
 * columns (a row per policy, then a row per failure detail), or JSON Lines (a report per
 * line). Strings are escaped as the formats need, control characters shown as \xNN, and a
 * CSV text field a spreadsheet would take for a formula (= + - @) gets a leading '.
 */
#include "inreport.h"
#include "vstring.h"

/* Appends the CSV header line. */
void report_export_csv_header(vstring *out);
/* Appends r's CSV rows, of the policies of domain only (NULL: all); returns the rows. */
size_t report_export_csv(const inreport *r, const char *domain, vstring *out);
/* Appends r as one JSON line, with the policies of domain only (NULL: all); returns 0 when
 * no policy was left (nothing appended), else 1. */
int report_export_jsonl(const inreport *r, const char *domain, vstring *out);
#endif
