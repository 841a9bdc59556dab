#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "instance.h"
#include "metrics.h"
#include "msg.h"
#include "privs.h"
#include "roles.h"
#include "spool.h"

static const role_ops *const supervisor_roles[] = {
    /* metrics.h numbers the roles in this order */
    &role_tlsrpt, &role_milter, &role_policy, &role_log, &role_metrics, &role_ship,
};

#define NROLES (sizeof(supervisor_roles) / sizeof(supervisor_roles[0]))
_Static_assert(NROLES == METRICS_NROLES, "metrics.h must name every role, in this order");
#define RESTART_MAX_DELAY 60
#define STOP_GRACE        30

typedef struct {
    const role_ops *ops;
    role_ctx ctx;
    int active; /* enabled and prepared */
    pid_t pid;  /* 0: not running */
    time_t started;
    time_t restart_at; /* when to start it again after a crash */
    int delay;
} role_slot;

static volatile sig_atomic_t sv_term, sv_hup, sv_chld;

static void sv_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT)
        sv_term = 1;
    else if (sig == SIGHUP)
        sv_hup = 1;
    else if (sig == SIGCHLD)
        sv_chld = 1;
}

static void child_signal(int sig)
{
    (void)sig;
    role_stop = 1;
}

static void sv_start(role_slot *slots, role_slot *s, const config *cfg)
{
    atomic_store(&s->ctx.shared->taken, 0);
    atomic_store(&s->ctx.shared->settled, 0);
    pid_t pid = fork();

    if (pid < 0) {
        msg_error("%s: fork: %m", s->ops->name);
        s->restart_at = time(NULL) + 1;
        return;
    }
    if (pid == 0) {
        struct sigaction sa;
        /* A role never outlives its supervisor, even one killed with SIGKILL. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = child_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGHUP, &sa, NULL);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* A child keeps only its own role's sockets. */
        for (size_t i = 0; i < NROLES; i++)
            if (&slots[i] != s)
                role_ctx_close(&slots[i].ctx);
        _exit(s->ops->run(cfg, &s->ctx));
    }
    s->pid = pid;
    s->started = time(NULL);
    metrics_role *mr = &metrics->role[s - slots];
    counter_set(&mr->up, 1);
    counter_set(&mr->start_time, (uint64_t)s->started);
    msg_debug("%s: started process %ld", s->ops->name, (long)pid);
}

/* What a dead child had taken in and not settled, including a receive call it died in. */
static uint64_t sv_in_flight(const role_slot *s)
{
    const role_shared *sh = s->ctx.shared;
    uint64_t taken = atomic_load(&sh->taken);

    if (taken & ROLE_TAKING) {
        taken &= ~ROLE_TAKING;
        if (s->ops->taking)
            taken += s->ops->taking(sh);
    }
    return taken - atomic_load(&sh->settled);
}

static void sv_reap(role_slot *slots, int stopping)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < NROLES; i++) {
            role_slot *s = &slots[i];
            if (s->pid != pid)
                continue;
            s->pid = 0;
            uint64_t gone = sv_in_flight(s);
            metrics_role_ended((int)i, gone);
            if (gone > 0)
                msg_error("%s: %llu item(s) read but not yet stored were lost with process %ld",
                          s->ops->name, (unsigned long long)gone, (long)pid);
            if (stopping)
                break;
            time_t now = time(NULL);
            /* Back off when a role keeps crashing; a role that ran a while starts afresh. */
            s->delay = now - s->started > RESTART_MAX_DELAY ? 1 : s->delay ? s->delay * 2 : 1;
            if (s->delay > RESTART_MAX_DELAY)
                s->delay = RESTART_MAX_DELAY;
            /* SIGKILL comes from outside (the OOM killer, an operator), not from a bug in
             * the role: no reason to keep its input waiting longer each time. */
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                s->delay = 1;
            s->restart_at = now + s->delay;
            counter_add(&metrics->role[i].restarts, 1);
            if (WIFSIGNALED(status))
                msg_error("%s: process %ld killed by signal %d; restarting in %ds", s->ops->name,
                          (long)pid, WTERMSIG(status), s->delay);
            else
                msg_error("%s: process %ld exited with status %d; restarting in %ds", s->ops->name,
                          (long)pid, WEXITSTATUS(status), s->delay);
        }
    }
}

/* Stops every child, waiting up to STOP_GRACE seconds before SIGKILL. */
static void sv_stop_all(role_slot *slots)
{
    for (size_t i = 0; i < NROLES; i++)
        if (slots[i].pid > 0)
            kill(slots[i].pid, SIGTERM);
    time_t deadline = time(NULL) + STOP_GRACE;
    for (;;) {
        int running = 0;
        sv_reap(slots, 1);
        for (size_t i = 0; i < NROLES; i++)
            running += slots[i].pid > 0;
        if (!running)
            return;
        if (time(NULL) >= deadline) {
            for (size_t i = 0; i < NROLES; i++)
                if (slots[i].pid > 0) {
                    msg_warn("%s: did not stop in %ds; killing it", slots[i].ops->name, STOP_GRACE);
                    kill(slots[i].pid, SIGKILL);
                }
            deadline = time(NULL) + 5;
        }
        usleep(20 * 1000);
    }
}

/* RLIMIT_NICE 20 - nice for the lowest role_ops.nice: after the drop, a role's thread
 * (the tlsrpt role's receive thread: a datagram it does not take in time is lost for good)
 * may still raise its priority. Best effort: without the privilege it runs at the default
 * priority. */
static void sv_allow_nice(void)
{
    struct rlimit rl;
    int nice = 0;

    for (size_t i = 0; i < NROLES; i++)
        if (supervisor_roles[i]->nice < nice)
            nice = supervisor_roles[i]->nice;
    rlim_t want = (rlim_t)(20 - nice);
    if (nice == 0 || geteuid() != 0 || getrlimit(RLIMIT_NICE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want;
    if (setrlimit(RLIMIT_NICE, &rl) < 0)
        msg_debug("setrlimit(RLIMIT_NICE): %m");
}

static int sv_prepare(role_slot *slots, const config *cfg, const config *old)
{
    int active = 0;

    counter_set(&metrics->tlsrpt.queue_limit, (uint64_t)cfg->tlsrpt_queue_size);
    for (size_t i = 0; i < NROLES; i++) {
        role_slot *s = &slots[i];
        s->ops = supervisor_roles[i];
        if (!s->ops->enabled(cfg)) {
            role_ctx_close(&s->ctx);
            s->active = 0;
            counter_set(&metrics->role[i].active, 0);
            continue;
        }
        if (s->ops->prepare(cfg, old, &s->ctx) < 0)
            return -1;
        s->active = 1;
        counter_set(&metrics->role[i].active, 1);
        active += s->ops != &role_metrics; /* a role of its own, but it has nothing to show */
    }
    return active;
}

int supervisor_run(config *cfg, const config_args *args)
{
    role_slot slots[NROLES];
    struct sigaction sa;
    sigset_t block, old_mask;

    memset(slots, 0, sizeof(slots));
    metrics_shm_map();
    counter_set(&metrics->start_time, (uint64_t)time(NULL));
    for (size_t i = 0; i < NROLES; i++) {
        size_t size = sizeof(role_shared) + supervisor_roles[i]->shared_size;
        slots[i].ctx.shared =
            mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (slots[i].ctx.shared == MAP_FAILED)
            msg_fatal("mmap: %m");
    }
    /* Handlers before the sockets exist: a SIGHUP (reload) sent as soon as a socket
     * appears must not find the default action, which ends the daemon. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sv_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old_mask);

    spool_close(spool_open(cfg->spool_directory));
    int active = sv_prepare(slots, cfg, NULL);
    if (active < 0)
        msg_fatal("cannot start: see the errors above");
    if (active == 0)
        msg_fatal("no role is enabled: set tlsrpt_socket, policy_socket, log_follow or "
                  "milter_socket");
    sv_allow_nice();
    privs_drop(cfg->user, cfg->spool_directory);
    instance_record(cfg->spool_directory);

    for (size_t i = 0; i < NROLES; i++)
        if (slots[i].active)
            sv_start(slots, &slots[i], cfg);
    msg_info("started");

    while (!sv_term) {
        /* Wake for a signal, or each second to restart crashed roles. */
        struct timespec ts = {1, 0};
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        nanosleep(&ts, NULL);
        sigprocmask(SIG_BLOCK, &block, NULL);
        if (sv_chld) {
            sv_chld = 0;
            sv_reap(slots, 0);
        }
        if (sv_hup) {
            sv_hup = 0;
            config *next = config_args_load(args);
            if (next == NULL) {
                msg_error("reload: configuration has errors; keeping the running one");
            } else {
                msg_info("reloading configuration");
                sv_stop_all(slots);
                if (sv_prepare(slots, next, cfg) < 0) {
                    msg_error("reload: cannot apply the new configuration; keeping the old");
                    config_free(next);
                    sv_prepare(slots, cfg, cfg);
                } else {
                    config_free(cfg);
                    cfg = next;
                }
                for (size_t i = 0; i < NROLES; i++)
                    if (slots[i].active)
                        sv_start(slots, &slots[i], cfg);
            }
        }
        time_t now = time(NULL);
        for (size_t i = 0; i < NROLES && !sv_term; i++)
            if (slots[i].active && slots[i].pid == 0 && now >= slots[i].restart_at)
                sv_start(slots, &slots[i], cfg);
    }
    msg_info("stopping");
    sv_stop_all(slots);
    for (size_t i = 0; i < NROLES; i++)
        role_ctx_close(&slots[i].ctx);
    if (*cfg->tlsrpt_socket)
        unlink(cfg->tlsrpt_socket);
    instance_forget(cfg->spool_directory);
    config_free(cfg);
    msg_info("stopped");
    return 0;
}
