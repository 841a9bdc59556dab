/* The daemon's metrics page and its Prometheus text exposition (format 0.0.4). */
#include "metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "msg.h"
#include "otrconfig.h"
#include "outcome.h"

metrics_shm *metrics;

static const char *const metrics_role_names[METRICS_NROLES] = {
    "tlsrpt", "milter", "policy", "log", "metrics", "ship",
};
static const char *const metrics_answer_names[METRICS_NANSWERS] = {"secure", "dane", "other",
                                                                   "notfound", "temp"};
static const char *const metrics_mode_names[METRICS_NMODES] = {"unknown", "none", "testing",
                                                               "enforce"};
static const char *const metrics_refused_names[METRICS_NREFUSED] = {"too_large", "malformed",
                                                                    "store_error", "deferred"};

void metrics_shm_map(void)
{
    metrics =
        mmap(NULL, sizeof(*metrics), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (metrics == MAP_FAILED)
        msg_fatal("mmap: %m");
}

void metrics_role_ended(int role, uint64_t lost)
{
    counter_set(&metrics->role[role].up, 0);
    if (role == METRICS_TLSRPT) {
        counter_add(&metrics->tlsrpt.died, lost);
        /* What it held is no longer queued; the next process starts with an empty queue. */
        counter_set(&metrics->tlsrpt.dequeued, counter_get(&metrics->tlsrpt.queued));
        counter_set(&metrics->tlsrpt.queue_bytes, 0);
    }
}

int metrics_answer_kind(const char *answer, size_t len)
{
    if (len >= 3 && memcmp(answer, "OK ", 3) == 0) {
        if (len >= 9 && memcmp(answer + 3, "secure", 6) == 0 && (len == 9 || answer[9] == ' '))
            return METRICS_ANSWER_SECURE;
        if (len >= 7 && memcmp(answer + 3, "dane", 4) == 0)
            return METRICS_ANSWER_DANE;
        return METRICS_ANSWER_OTHER;
    }
    if (len >= 4 && memcmp(answer, "TEMP", 4) == 0)
        return METRICS_ANSWER_TEMP;
    return METRICS_ANSWER_NOTFOUND;
}

static void metrics_head(vstring *out, const char *name, const char *type, const char *help)
{
    vstring_sprintf_append(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_value(vstring *out, const char *name, const char *labels, uint64_t v)
{
    vstring_sprintf_append(out, "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels,
                           *labels ? "}" : "", (unsigned long long)v);
}

/* One sample per active role of the counter at offset off in metrics_role. */
/* A metric of one sample without labels. */
static void metrics_scalar(vstring *out, const char *name, const char *type, const char *help,
                           uint64_t v)
{
    metrics_head(out, name, type, help);
    metrics_value(out, name, "", v);
}

/* A counter of n samples, one per value names[i] of label. */
static void metrics_by(vstring *out, const char *name, const char *help, const char *label,
                       const char *const *names, const counter *c, int n)
{
    char labels[96];

    metrics_head(out, name, "counter", help);
    for (int i = 0; i < n; i++) {
        snprintf(labels, sizeof(labels), "%s=\"%s\"", label, names[i]);
        metrics_value(out, name, labels, counter_get(&c[i]));
    }
}

/* Whether role r writes a journal. */
static int metrics_journals(int r)
{
    return r == METRICS_TLSRPT || r == METRICS_POLICY || r == METRICS_LOG;
}

/* One sample per active role (journal: per active role that writes a journal) of the
 * counter at offset off in metrics_role. */
static void metrics_per_role(vstring *out, const metrics_shm *m, const char *name, const char *type,
                             const char *help, size_t off, int journal)
{
    char labels[64];

    metrics_head(out, name, type, help);
    for (int r = 0; r < METRICS_NROLES; r++) {
        if (!counter_get(&m->role[r].active) || (journal && !metrics_journals(r)))
            continue;
        snprintf(labels, sizeof(labels), "role=\"%s\"", metrics_role_names[r]);
        metrics_value(out, name, labels,
                      counter_get((const counter *)((const char *)&m->role[r] + off)));
    }
}

static void metrics_hist(vstring *out, const char *name, const char *labels, const hist *h)
{
    uint64_t cum = 0;
    const char *sep = *labels ? "," : "";

    for (int i = 0; i <= HIST_NBUCKETS; i++) {
        cum += counter_get(&h->bucket[i]);
        if (i < HIST_NBUCKETS)
            vstring_sprintf_append(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                                   (double)hist_bounds_us[i] / 1e6, (unsigned long long)cum);
        else
            vstring_sprintf_append(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                                   (unsigned long long)cum);
    }
    vstring_sprintf_append(out, "%s_sum%s%s%s %.6f\n", name, *labels ? "{" : "", labels,
                           *labels ? "}" : "", (double)counter_get(&h->sum_us) / 1e6);
    vstring_sprintf_append(out, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels,
                           *labels ? "}" : "", (unsigned long long)cum);
}

void metrics_format(const metrics_shm *m, vstring *out)
{
    char labels[160], roles[64] = "";
    uint64_t v;

    for (int r = 0; r < METRICS_NROLES; r++)
        if (counter_get(&m->role[r].active) && r != METRICS_HTTP)
            snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%s%s",
                     *roles ? "," : "", metrics_role_names[r]);
    metrics_head(out, "opentlsrpt_build_info", "gauge",
                 "Version of opentlsrpt and the roles the running configuration enables.");
    snprintf(labels, sizeof(labels), "version=\"%s\",roles=\"%s\"", PACKAGE_VERSION, roles);
    metrics_value(out, "opentlsrpt_build_info", labels, 1);
    metrics_scalar(out, "opentlsrpt_start_time_seconds", "gauge",
                   "When the daemon started, in seconds since the epoch.",
                   counter_get(&m->start_time));

    /* Roles */
    metrics_per_role(out, m, "opentlsrpt_role_up", "gauge",
                     "Whether the role's process is running (1) or waiting to restart (0).",
                     offsetof(metrics_role, up), 0);
    metrics_per_role(out, m, "opentlsrpt_role_restarts_total", "counter",
                     "Times the role's process was started again after it ended.",
                     offsetof(metrics_role, restarts), 0);
    metrics_per_role(out, m, "opentlsrpt_role_start_time_seconds", "gauge",
                     "When the role's process started, in seconds since the epoch.",
                     offsetof(metrics_role, start_time), 0);
    metrics_per_role(out, m, "opentlsrpt_journal_records_written_total", "counter",
                     "Outcomes the role wrote to its spool journal.",
                     offsetof(metrics_role, spool.written), 1);
    metrics_per_role(out, m, "opentlsrpt_journal_records_lost_total", "counter",
                     "Outcomes the role could not write to its journal (disk full, I/O error).",
                     offsetof(metrics_role, spool.lost), 1);
    metrics_per_role(out, m, "opentlsrpt_journal_records_dropped_total", "counter",
                     "Outcomes the role did not store: the day's journal reached journal_max_size.",
                     offsetof(metrics_role, spool.dropped), 1);
    metrics_per_role(out, m, "opentlsrpt_journal_written_bytes_total", "counter",
                     "Bytes the role wrote to its journals.", offsetof(metrics_role, spool.bytes),
                     1);
    metrics_per_role(out, m, "opentlsrpt_journal_bytes", "gauge",
                     "Size of the journal the role wrote last (today's).",
                     offsetof(metrics_role, spool.journal_size), 1);
    metrics_head(out, "opentlsrpt_journal_fsync_duration_seconds", "histogram",
                 "Time fdatasync of a journal took.");
    for (int r = 0; r < METRICS_NROLES; r++) {
        if (!counter_get(&m->role[r].active) || !metrics_journals(r))
            continue;
        snprintf(labels, sizeof(labels), "role=\"%s\"", metrics_role_names[r]);
        metrics_hist(out, "opentlsrpt_journal_fsync_duration_seconds", labels,
                     &m->role[r].spool.sync);
    }

    if (counter_get(&m->role[METRICS_TLSRPT].active)) {
        metrics_scalar(out, "opentlsrpt_datagrams_received_total", "counter",
                       "TLSRPT datagrams read from the socket.", counter_get(&m->tlsrpt.received));
        metrics_head(out, "opentlsrpt_datagrams_malformed_total", "counter",
                     "Datagrams refused as malformed, by reason.");
        for (int i = 1; i < DGRAM_NSTATUS; i++) {
            snprintf(labels, sizeof(labels), "reason=\"%s\"", dgram_status_name((dgram_status)i));
            metrics_value(out, "opentlsrpt_datagrams_malformed_total", labels,
                          counter_get(&m->tlsrpt.malformed[i]));
        }
        metrics_head(out, "opentlsrpt_datagrams_dropped_total", "counter",
                     "Datagrams read but lost, by reason: the in-memory queue was full, the "
                     "journal could not be written, the day's journal reached journal_max_size, "
                     "the process was killed holding them.");
        metrics_value(out, "opentlsrpt_datagrams_dropped_total", "reason=\"queue_full\"",
                      counter_get(&m->tlsrpt.queue_full));
        metrics_value(out, "opentlsrpt_datagrams_dropped_total", "reason=\"write_error\"",
                      counter_get(&m->role[METRICS_TLSRPT].spool.lost));
        metrics_value(out, "opentlsrpt_datagrams_dropped_total", "reason=\"journal_full\"",
                      counter_get(&m->role[METRICS_TLSRPT].spool.dropped));
        metrics_value(out, "opentlsrpt_datagrams_dropped_total", "reason=\"process_killed\"",
                      counter_get(&m->tlsrpt.died));
        metrics_scalar(out, "opentlsrpt_datagrams_stored_total", "counter",
                       "Datagrams written to the journal.", counter_get(&m->tlsrpt.stored));
        uint64_t q = counter_get(&m->tlsrpt.queued), d = counter_get(&m->tlsrpt.dequeued);
        metrics_scalar(out, "opentlsrpt_datagram_queue_length", "gauge",
                       "Datagrams waiting in the in-memory queue for the writer.",
                       q > d ? q - d : 0);
        metrics_scalar(out, "opentlsrpt_datagram_queue_bytes", "gauge",
                       "Bytes in use in the in-memory queue (as the writer last saw it).",
                       counter_get(&m->tlsrpt.queue_bytes));
        metrics_scalar(out, "opentlsrpt_datagram_queue_limit_bytes", "gauge",
                       "Size of the in-memory queue (tlsrpt_queue_size).",
                       counter_get(&m->tlsrpt.queue_limit));
    }

    if (counter_get(&m->role[METRICS_POLICY].active)) {
        metrics_by(out, "opentlsrpt_policy_lookups_total",
                   "Policy service answers to Postfix, by answer.", "answer", metrics_answer_names,
                   m->policy.answers, METRICS_NANSWERS);
        metrics_head(out, "opentlsrpt_policy_lookup_duration_seconds", "histogram",
                     "Time from a lookup's request to its answer.");
        metrics_hist(out, "opentlsrpt_policy_lookup_duration_seconds", "", &m->policy.latency);
        metrics_scalar(out, "opentlsrpt_policy_cache_entries", "gauge",
                       "Domains the policy service keeps in memory.",
                       counter_get(&m->policy.cache_entries));
        metrics_scalar(out, "opentlsrpt_policy_cache_policies", "gauge",
                       "Cached domains with a usable MTA-STS policy.",
                       counter_get(&m->policy.cache_policies));
        if ((v = counter_get(&m->policy.cache_oldest_fetch)) != 0) {
            metrics_scalar(out, "opentlsrpt_policy_cache_oldest_fetch_timestamp_seconds", "gauge",
                           "When the oldest usable cached policy was fetched.", v);
        }
        metrics_scalar(out, "opentlsrpt_policy_fetches_total", "counter",
                       "MTA-STS policies fetched successfully.", counter_get(&m->policy.fetches));
        metrics_head(out, "opentlsrpt_policy_fetch_failures_total", "counter",
                     "MTA-STS policy fetches that failed, by result type and by the mode of "
                     "the policy last known for the domain.");
        for (int mode = 0; mode < METRICS_NMODES; mode++)
            for (int r = 0; r < METRICS_NRESULTS; r++) {
                const char *name = outcome_result_name(200 + r);
                v = counter_get(&m->policy.fetch_failures[mode][r]);
                /* The fetch's own result types always, so that increase() sees the first. */
                if (name == NULL || (v == 0 && (r < 101 || r > 103)))
                    continue;
                snprintf(labels, sizeof(labels), "result_type=\"%s\",policy_mode=\"%s\"", name,
                         metrics_mode_names[mode]);
                metrics_value(out, "opentlsrpt_policy_fetch_failures_total", labels, v);
            }
    }

    if (counter_get(&m->role[METRICS_LOG].active)) {
        metrics_scalar(out, "opentlsrpt_log_lines_read_total", "counter",
                       "Lines read from the followed mail log.", counter_get(&m->log.lines));
        metrics_scalar(out, "opentlsrpt_log_lines_relevant_total", "counter",
                       "Log lines recognised as TLS or delivery information.",
                       counter_get(&m->log.relevant));
        metrics_scalar(out, "opentlsrpt_log_lines_malformed_total", "counter",
                       "Recognised log lines a required field of which could not be parsed.",
                       counter_get(&m->log.malformed));
        metrics_scalar(out, "opentlsrpt_log_sessions_total", "counter",
                       "TLS sessions (outcomes) found in the log.", counter_get(&m->log.sessions));
        metrics_scalar(out, "opentlsrpt_log_follow_lag_bytes", "gauge",
                       "Bytes of the followed log file not read yet.",
                       counter_get(&m->log.lag_bytes));
        metrics_scalar(out, "opentlsrpt_log_last_read_timestamp_seconds", "gauge",
                       "When the follower last read new log data.", counter_get(&m->log.last_read));
    }

    if (counter_get(&m->role[METRICS_MILTER].active)) {
        metrics_scalar(out, "opentlsrpt_milter_messages_total", "counter",
                       "Messages the milter saw.", counter_get(&m->milter.messages));
        metrics_head(out, "opentlsrpt_milter_reports_total", "counter",
                     "TLS-RPT reports the milter captured: stored, or a duplicate of one stored.");
        metrics_value(out, "opentlsrpt_milter_reports_total", "result=\"stored\"",
                      counter_get(&m->milter.reports_stored));
        metrics_value(out, "opentlsrpt_milter_reports_total", "result=\"duplicate\"",
                      counter_get(&m->milter.reports_duplicate));
        metrics_by(out, "opentlsrpt_milter_reports_refused_total",
                   "Report messages not stored, by reason.", "reason", metrics_refused_names,
                   m->milter.refused, METRICS_NREFUSED);
        metrics_scalar(out, "opentlsrpt_milter_resident_memory_bytes", "gauge",
                       "Resident memory of the milter role's process.",
                       counter_get(&m->milter.memory_bytes));
    }
}
