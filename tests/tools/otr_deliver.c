/* Test helper: builds the report of one domain for one day from the spool, exactly as the
 * agent does, and hands it to deliver_mail or deliver_file, printing the status.
 *   otr-deliver -c CONF -d DAY -D DOMAIN (-m ADDR | -f DIR -u URI) [-o name=value]...
 * Exit: 0 delivered, 75 temporary failure, 69 permanent failure, 1 set-up error. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "deliver.h"
#include "domain.h"
#include "mailmsg.h"
#include "msg.h"
#include "report.h"

typedef struct {
    report_set *rs;
    const char *domain;
} otr_deliver_walk;

/* Only the domain wanted is aggregated: memory follows its report, not the day's. */
static int otr_deliver_visit(const outcome *o, void *arg)
{
    otr_deliver_walk *w = arg;

    report_set_add(w->rs, o, w->domain);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mail = NULL, *dir = NULL, *uri = NULL;
    config_args args;
    agent_scope sc = {0};
    agent_ctx ctx;
    int ch;

    msg_open("otr-deliver", MSG_TO_STDERR);
    config_args_init(&args);
    while ((ch = getopt(argc, argv, "c:d:D:m:f:u:o:")) != -1) {
        switch (ch) {
        case 'd':
        case 'D':
            if (agent_scope_option(&sc, ch, optarg) != 0)
                return 1;
            break;
        case 'm':
            mail = optarg;
            break;
        case 'f':
            dir = optarg;
            break;
        case 'u':
            uri = optarg;
            break;
        default:
            if (!config_args_option(&args, ch, optarg))
                return 1;
        }
    }
    if (args.path == config_default_path() || !sc.day || !sc.domain || (!mail && !(dir && uri))) {
        fprintf(stderr, "usage: otr-deliver -c CONF -d DAY -D DOMAIN (-m ADDR | -f DIR -u URI)\n");
        return 1;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.cfg = config_args_load(&args);
    if (ctx.cfg == NULL)
        return 1;
    int status = 1;
    const char *day = sc.day, *dom = sc.domain;
    char id[1024], why[512] = "";
    vstring *text = vstring_alloc(0);
    report_opts ro;
    report_opts_init(&ro, ctx.cfg);
    report_set *rs = report_set_new(day);
    journal_stats js;
    otr_deliver_walk w = {rs, dom};
    if (spool_iterate_day(agent_spool(&ctx), day, otr_deliver_visit, &w, &js) < 0)
        goto done;
    if (report_set_text(rs, dom, &ro, text) < 0) {
        fprintf(stderr, "no report for %s on %s\n", dom, day);
        goto done;
    }
    report_id(id, sizeof(id), day, dom, &ro);
    mailmsg_report r = {day, dom, id, ro.submitter, text->data, text->len, 0, 0};
    report_set_totals(rs, dom, &r.ok, &r.failed);
    /* As the agent does: file delivery must sign without deliver_mail_init. */
    if (mail && deliver_mail_init(&ctx) < 0)
        goto done;
    deliver_status st = mail ? deliver_mail(&ctx, &r, mail, why, sizeof(why))
                             : deliver_file(&ctx, &r, dir, uri, why, sizeof(why));
    static const char *const names[] = {"OK", "TEMPFAIL", "PERMFAIL"};
    printf("%s: %s\n", names[st], why);
    status = st == DELIVER_OK ? 0 : st == DELIVER_TEMPFAIL ? 75 : 69;
done:
    mailmsg_done();
    vstring_free(text);
    report_opts_done(&ro);
    report_set_free(rs);
    spool_close(ctx.spool);
    config_free(ctx.cfg);
    return status;
}
