/* cli.c: subcommand table and options. No logic beyond parsing and dispatch. */
#include "config.h"
#include "cli/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/load.h"
#include "config/validate.h"
#include "graph/graph.h"
#include "libvirt/conn.h"
#include "run/exit.h"
#include "run/reconcile.h"
#include "util/xalloc.h"

#define DEFAULT_CONFIG "/etc/podform"

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

typedef struct options {
        const char **files;
        size_t n_files;
        const char *host;
        const char *connect;
        const char *output;
        int verbose;
        bool quiet;
        enum color_mode color;
        bool detailed_exitcode, dry_run, prune, yes, allow_restart, owned_only, scope_given;
        long debounce_ms, resync_s, shutdown_timeout_s, parallel;
} options;

/* Option bits: which subcommand accepts which option. */
enum {
        O_FILE = 1 << 0, O_CONNECT = 1 << 1, O_OUTPUT = 1 << 2, O_DETAILED = 1 << 3,
        O_DRY_RUN = 1 << 4, O_PRUNE = 1 << 5, O_YES = 1 << 6, O_DEBOUNCE = 1 << 7, O_RESYNC = 1 << 8,
        O_ALLOW_RESTART = 1 << 9, O_SHUTDOWN_TIMEOUT = 1 << 10, O_OWNED = 1 << 11, O_PARALLEL = 1 << 12,
};

typedef struct command {
        const char *name;
        const char *summary;
        const char *usage;
        unsigned accepts;
        const char *outputs;            /* allowed --output values, or NULL */
        int (*run)(const struct command *cmd, options *o);
} command;

static bool use_color(enum color_mode m, FILE *f) {
        if (m != COLOR_AUTO)
                return m == COLOR_ALWAYS;
        const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
        if (no && *no)
                return false;
        return isatty(fileno(f)) && !(term && strcmp(term, "dumb") == 0);
}

/* load + validate: the first stages of every command that reads the configuration. `no_host`
 * (validate): also warn about what only a host could resolve. */
static int load_config(options *o, pf_config *c, bool no_host) {
        pf_config_init(c);
        static const char *def[] = { DEFAULT_CONFIG };
        const char **files = o->n_files ? o->files : def;
        size_t n = o->n_files ? o->n_files : 1;
        for (size_t i = 0; i < n; i++)
                pf_config_load_path(c, files[i]);
        pf_run_check(c);
        if (no_host)
                pf_warn_undeclared(&c->diags, &c->model);
        if (o->quiet)
                pf_diag_drop_warnings(&c->diags);
        pf_diag_sort(&c->diags);
        pf_diag_print(&c->diags, stderr, use_color(o->color, stderr));
        if (c->diags.n_errors) {
                fprintf(stderr, "podform: %zu error%s; nothing was changed\n", c->diags.n_errors,
                        c->diags.n_errors == 1 ? "" : "s");
                return PF_EXIT_ERROR;
        }
        return PF_EXIT_OK;
}

static void list_resources(const pf_model *m) {
#define LIST_KIND(list, label)                                                   \
        for (size_t i = 0; i < m->list.n; i++)                                   \
                printf("  %-15s %s%s%s\t%s:%u\n", label, m->list.v[i].meta.name,  \
                       m->list.v[i].meta.host ? " @" : "",                       \
                       m->list.v[i].meta.host ? m->list.v[i].meta.host : "",     \
                       m->list.v[i].meta.loc.src->path, m->list.v[i].meta.loc.line)
        LIST_KIND(hosts, "Host");
        LIST_KIND(subnets, "Subnet");
        LIST_KIND(bridges, "Bridge");
        LIST_KIND(macvtaps, "Macvtap");
        LIST_KIND(macvlans, "Macvlan");
        LIST_KIND(networks, "Network");
        LIST_KIND(pools, "StoragePool");
        LIST_KIND(vms, "VirtualMachine");
#undef LIST_KIND
}

static int run_validate(const command *cmd, options *o) {
        (void) cmd;
        pf_config c;
        int r = load_config(o, &c, true);
        if (r == PF_EXIT_OK && !o->quiet) {
                printf("podform: configuration is valid: %zu resource%s in %zu file%s\n", c.n_resources,
                       c.n_resources == 1 ? "" : "s", c.n_files, c.n_files == 1 ? "" : "s");
                if (o->verbose)
                        list_resources(&c.model);
        }
        pf_config_free(&c);
        return r;
}

/* PODFORM_STATE_DIR moves the ownership record (tests, non-root runs). */
static const char *state_dir(void) {
        const char *d = getenv("PODFORM_STATE_DIR");
        return d && *d ? d : "/var/lib/podform";
}

/* The two transports, or an exit code with the reason printed. `read_only`: no lock and no
 * writes to the record of enslaved ports (plan, --dry-run, show). */
static int open_host(const options *o, const char *uri, bool read_only, pf_lv_host **h, pf_nl_host **nl) {
        pf_lv_opts lo = { .shutdown_timeout = (unsigned) o->shutdown_timeout_s };
        char *err = NULL;
        *nl = NULL;
        *h = pf_lv_open(uri, state_dir(), &lo, &err);
        if (*h)
                *nl = pf_nl_open(state_dir(), read_only, &err);
        if (*nl)
                return PF_EXIT_OK;
        fprintf(stderr, "podform: %s\n", err);
        free(err);
        if (*h)
                pf_lv_close(*h);
        return PF_EXIT_ERROR;
}

static pf_run_opts run_opts(const options *o, const char *host_name) {
        return (pf_run_opts) {
                .dry_run = o->dry_run, .prune = o->prune, .yes = o->yes,
                .allow_restart = o->allow_restart, .detailed_exitcode = o->detailed_exitcode,
                .json = o->output && !strcmp(o->output, "json"), .color = use_color(o->color, stdout),
                .verbose = o->verbose > 0, .quiet = o->quiet, .interactive = isatty(STDIN_FILENO) == 1,
                .owned_only = o->owned_only, .parallel = (unsigned) o->parallel, .host_name = host_name, .out = stdout, .err = stderr,
        };
}

/* --host naming none of the configuration's Host documents: said, and true. */
static bool host_option_error(const options *o, const pf_config *c) {
        char *bad_host = pf_check_host(c, o->host);
        bool bad = bad_host != NULL;
        if (bad)
                fprintf(stderr, "podform: %s\n", bad_host);
        free(bad_host);
        return bad;
}

static int run_reconcile(const command *cmd, options *o) {
        pf_config c;
        int r = load_config(o, &c, false);
        if (r != PF_EXIT_OK) {
                pf_config_free(&c);
                return r;
        }
        if (host_option_error(o, &c)) {
                pf_config_free(&c);
                return PF_EXIT_ERROR;
        }
        const char *host_name = pf_scope_host(&c, o->host);
        const char *uri = pf_scope_uri(&c, host_name, o->connect);
        bool apply = !strcmp(cmd->name, "apply");
        pf_lv_host *h;
        pf_nl_host *nl;
        if (open_host(o, uri, !apply || o->dry_run, &h, &nl) != PF_EXIT_OK) {
                pf_config_free(&c);
                return PF_EXIT_ERROR;
        }
        pf_run_opts ro = run_opts(o, host_name);
        ro.apply = apply;
        FILE *devnull = NULL;
        if (o->quiet && !ro.json)       /* -q: errors only */
                ro.out = devnull = fopen("/dev/null", "we");
        if (!ro.out) {
                fprintf(stderr, "podform: cannot open /dev/null\n");
                pf_nl_close(nl);
                pf_lv_close(h);
                pf_config_free(&c);
                return PF_EXIT_ERROR;
        }
        if (!o->quiet && !ro.json)
                printf("podform %s: host %s, %s\n", cmd->name, host_name, uri);
        r = pf_reconcile(&c, h, nl, &ro);
        if (devnull)
                fclose(devnull);
        pf_nl_close(nl);
        pf_lv_close(h);
        pf_config_free(&c);
        return r;
}

/* show reads no configuration: the host is --host's, else this machine's. */
static int run_show(const command *cmd, options *o) {
        (void) cmd;
        pf_config c;
        pf_config_init(&c);
        const char *host_name = pf_scope_host(&c, o->host);
        const char *uri = pf_scope_uri(&c, host_name, o->connect);
        pf_lv_host *h;
        pf_nl_host *nl;
        int r = open_host(o, uri, true, &h, &nl);
        if (r == PF_EXIT_OK) {
                pf_run_opts ro = run_opts(o, host_name);
                r = pf_show(h, nl, &ro);
                pf_nl_close(nl);
                pf_lv_close(h);
        }
        pf_config_free(&c);
        return r;
}

/* graph: with -f the plan drawn on the host, without it the host as it is. */
static int run_graph(const command *cmd, options *o) {
        (void) cmd;
        const char *format = o->output ? o->output : "dot";
        if (!strcmp(format, "svg") && !pf_graph_can_svg()) {
                fprintf(stderr, "podform: --output svg: podform was built without Graphviz (libgvc); write DOT and "
                                "render it with 'dot -Tsvg', or rebuild with libgraphviz-dev installed\n");
                return PF_EXIT_ERROR;
        }
        pf_config c;
        int r = o->n_files ? load_config(o, &c, false) : (pf_config_init(&c), PF_EXIT_OK);
        if (r == PF_EXIT_OK && host_option_error(o, &c))
                r = PF_EXIT_ERROR;
        const char *host_name = pf_scope_host(&c, o->host);
        const char *uri = pf_scope_uri(&c, host_name, o->connect);
        pf_lv_host *h;
        pf_nl_host *nl;
        if (r == PF_EXIT_OK && (r = open_host(o, uri, true, &h, &nl)) == PF_EXIT_OK) {
                pf_run_opts ro = run_opts(o, host_name);
                ro.color = use_color(o->color, stderr);         /* the graph's errors go there */
                r = pf_graph_host(o->n_files ? &c : NULL, h, nl, &ro, format);
                pf_nl_close(nl);
                pf_lv_close(h);
        }
        pf_config_free(&c);
        return r;
}

/* "yaml or json", "text, json or dot" from "yaml,json" (static storage: one list at a time). */
static const char *spelled_list(const char *list) {
        static char buf[128];
        size_t n = 0, items = 1;
        for (const char *p = list; *p; p++)
                items += *p == ',';
        for (const char *p = list; *p && n + 8 < sizeof(buf); p++) {
                if (*p != ',') {
                        buf[n++] = *p;
                        continue;
                }
                const char *sep = --items == 1 ? " or " : ", ";
                memcpy(buf + n, sep, strlen(sep));
                n += strlen(sep);
        }
        buf[n] = '\0';
        return buf;
}

/* Commands whose issues have not landed: they check their options, then say so plainly. */
static int run_not_implemented(const command *cmd, options *o) {
        (void) o;
        fprintf(stderr, "podform: '%s' is not implemented yet in this release\n", cmd->name);
        return PF_EXIT_ERROR;
}

static const command commands[] = {
        { "validate", "check the configuration; touches nothing",
          "[-f PATH]...", O_FILE, NULL, run_validate },
        { "plan", "show what apply would change",
          "[-f PATH]... [--connect URI] [--output text|json] [--detailed-exitcode] [--prune] [--allow-restart]",
          O_FILE | O_CONNECT | O_OUTPUT | O_DETAILED | O_PRUNE | O_ALLOW_RESTART, "text,json", run_reconcile },
        { "apply", "make the host match the configuration",
          "[-f PATH]... [--connect URI] [--dry-run] [--prune] [--yes] [--allow-restart] [--shutdown-timeout S]"
          " [--parallel N]",
          O_FILE | O_CONNECT | O_DRY_RUN | O_PRUNE | O_YES | O_ALLOW_RESTART | O_SHUTDOWN_TIMEOUT | O_PARALLEL, NULL,
          run_reconcile },
        { "watch", "apply, then re-apply when files change or the host drifts",
          "[-f PATH]... [--connect URI] [--debounce MS] [--resync SECONDS]",
          O_FILE | O_CONNECT | O_DEBOUNCE | O_RESYNC, NULL, run_not_implemented },
        { "show", "print the live host as podform configuration (import a host)",
          "[--connect URI] [--output yaml|json] [--owned|--all]", O_CONNECT | O_OUTPUT | O_OWNED, "yaml,json", run_show },
        { "graph", "print the host topology as Graphviz DOT (with -f: the plan drawn on it)",
          "[-f PATH]... [--connect URI] [--output dot|svg] [--prune]", O_FILE | O_CONNECT | O_OUTPUT | O_PRUNE,
          "dot,svg", run_graph },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char common_help[] =
        "Common options:\n"
        "  --host NAME            the host to act as (default: this machine's hostname)\n"
        "  -v, --verbose          say more\n"
        "  -q, --quiet            print only errors\n"
        "  --color auto|always|never  colour the output (auto honours NO_COLOR)\n"
        "  -h, --help             show this help\n"
        "  -V, --version          show the version\n";

static void usage_main(FILE *f) {
        fprintf(f, "Usage: podform COMMAND [OPTION]...\n\n"
                   "Declarative management of KVM hosts: libvirt networks, pools, VMs and host links.\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < N_COMMANDS; i++)
                if (commands[i].run != run_not_implemented)     /* listed once they work */
                        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\n%s\nRun 'podform COMMAND --help' for the options of a command; see podform(1), podform.yaml(5).\n",
                common_help);
}

static void usage_command(const command *c, FILE *f) {
        fprintf(f, "Usage: podform %s %s\n\n%c%s.\n\nOptions:\n", c->name, c->usage,
                c->summary[0] - ('a' - 'A'), c->summary + 1);
        if (c->accepts & O_FILE)
                fprintf(f, "  -f, --file PATH        a file or directory of YAML (repeatable; %s)\n",
                        !strcmp(c->name, "graph") ? "without it, the live host is drawn" : "default " DEFAULT_CONFIG);
        if (c->accepts & O_CONNECT)
                fprintf(f, "  --connect URI          libvirt URI (default: the Host's connect, else qemu:///system)\n");
        if (c->accepts & O_OUTPUT)
                fprintf(f, "  -o, --output FORMAT    %s\n", spelled_list(c->outputs));
        if (c->accepts & O_DETAILED)
                fprintf(f, "  --detailed-exitcode    exit 2 when changes are pending, 0 when none\n");
        if (c->accepts & O_DRY_RUN)
                fprintf(f, "  --dry-run              plan and print, change nothing\n");
        if (c->accepts & O_PRUNE)
                fprintf(f, "  --prune                %s podform-owned resources the configuration no longer declares\n",
                        !strcmp(c->name, "graph") ? "draw as deleted the" : "delete");
        if (c->accepts & O_YES)
                fprintf(f, "  --yes                  do not ask for confirmation\n");
        if (c->accepts & O_ALLOW_RESTART)
                fprintf(f, "  --allow-restart        restart running VMs whose changes need it (default: never)\n");
        if (c->accepts & O_SHUTDOWN_TIMEOUT)
                fprintf(f, "  --shutdown-timeout S   seconds to wait for an ACPI shutdown before powering off (default 120)\n");
        if (c->accepts & O_PARALLEL)
                fprintf(f, "  --parallel N           libvirt changes carried out at once, each on a connection of its own\n"
                           "                         (default: twice the CPUs, at most 4)\n");
        if (c->accepts & O_OWNED)
                fprintf(f, "  --owned                only what podform created\n"
                           "  --all                  everything on the host, adopted when applied (default)\n");
        if (c->accepts & O_DEBOUNCE)
                fprintf(f, "  --debounce MS          wait this long after the last change before reconciling\n");
        if (c->accepts & O_RESYNC)
                fprintf(f, "  --resync SECONDS       reconcile at least this often\n");
        fprintf(f, "\n%s", common_help);
}

enum {
        OPT_HOST = 1000, OPT_COLOR, OPT_CONNECT, OPT_DETAILED, OPT_DRY_RUN, OPT_PRUNE,
        OPT_YES, OPT_DEBOUNCE, OPT_RESYNC, OPT_ALLOW_RESTART, OPT_SHUTDOWN_TIMEOUT, OPT_OWNED, OPT_ALL, OPT_PARALLEL,
};

static const struct option long_options[] = {
        { "file", required_argument, NULL, 'f' },
        { "host", required_argument, NULL, OPT_HOST },
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "color", required_argument, NULL, OPT_COLOR },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "connect", required_argument, NULL, OPT_CONNECT },
        { "output", required_argument, NULL, 'o' },
        { "detailed-exitcode", no_argument, NULL, OPT_DETAILED },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "prune", no_argument, NULL, OPT_PRUNE },
        { "yes", no_argument, NULL, OPT_YES },
        { "debounce", required_argument, NULL, OPT_DEBOUNCE },
        { "resync", required_argument, NULL, OPT_RESYNC },
        { "allow-restart", no_argument, NULL, OPT_ALLOW_RESTART },
        { "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
        { "parallel", required_argument, NULL, OPT_PARALLEL },
        { "owned", no_argument, NULL, OPT_OWNED },
        { "all", no_argument, NULL, OPT_ALL },
        { 0 },
};

__attribute__((format(printf, 2, 3)))
static int usage_error(const command *c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("podform: ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'podform %s%s--help'.\n", c ? c->name : "", c ? " " : "");
        return PF_EXIT_ERROR;
}

static bool parse_count(const char *s, long max, long *ret) {
        char *end;
        long v = strtol(s, &end, 10);
        if (!*s || *end || v < 0 || v > max)
                return false;
        *ret = v;
        return true;
}

static bool in_list(const char *value, const char *list) {
        size_t n = strlen(value);
        for (const char *p = list; p && *p;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                if (len == n && strncmp(p, value, n) == 0)
                        return true;
                p = comma ? comma + 1 : NULL;
        }
        return false;
}

/* How the user spelled the option getopt_long just returned: "--output", "-o". */
static const char *option_spelling(int c, int long_index, char *buf, size_t size) {
        if (long_index >= 0)
                snprintf(buf, size, "--%s", long_options[long_index].name);
        else
                snprintf(buf, size, "-%c", c);
        return buf;
}

/* getopt_long's '?' (unknown, or a value given to an option that takes none) and ':' (a value
 * missing), for the word `arg` that held it: the option named as the user wrote it. getopt's
 * optopt is no help for long options (it holds their code, not a character). */
static int bad_option(const command *cmd, int c, const char *arg) {
        char name[64];
        bool is_long = !strncmp(arg, "--", 2);
        if (is_long)
                snprintf(name, sizeof(name), "%.*s", (int) strcspn(arg, "="), arg);
        else
                snprintf(name, sizeof(name), "-%c", optopt > 0 && optopt < 128 ? optopt : '?');
        if (c == ':')
                return usage_error(cmd, "option '%s' needs a value", name);
        for (const struct option *lo = long_options; is_long && strchr(arg, '=') && lo->name; lo++)
                if (!strcmp(lo->name, name + 2))
                        return usage_error(cmd, "option '%s' takes no value", name);
        return usage_error(cmd, "unknown option '%s'", name);
}

/* The command an option needs to be given to (0: every command takes it). */
static unsigned option_need(int c) {
        switch (c) {
        case 'f': return O_FILE;
        case OPT_CONNECT: return O_CONNECT;
        case 'o': return O_OUTPUT;
        case OPT_DETAILED: return O_DETAILED;
        case OPT_DRY_RUN: return O_DRY_RUN;
        case OPT_PRUNE: return O_PRUNE;
        case OPT_YES: return O_YES;
        case OPT_DEBOUNCE: return O_DEBOUNCE;
        case OPT_RESYNC: return O_RESYNC;
        case OPT_ALLOW_RESTART: return O_ALLOW_RESTART;
        case OPT_SHUTDOWN_TIMEOUT: return O_SHUTDOWN_TIMEOUT;
        case OPT_PARALLEL: return O_PARALLEL;
        case OPT_OWNED:
        case OPT_ALL: return O_OWNED;
        default: return 0;
        }
}

/* An option that takes a number. -1: taken; else the exit code of the usage error. */
static int set_count_option(const command *cmd, options *o, int c) {
        if (c == OPT_DEBOUNCE && !parse_count(optarg, 3600000, &o->debounce_ms))
                return usage_error(cmd, "--debounce takes milliseconds from 0 to 3600000, not '%s'", optarg);
        if (c == OPT_SHUTDOWN_TIMEOUT && !parse_count(optarg, 3600, &o->shutdown_timeout_s))
                return usage_error(cmd, "--shutdown-timeout takes seconds from 0 to 3600, not '%s'", optarg);
        if (c == OPT_PARALLEL && (!parse_count(optarg, PF_PARALLEL_MAX, &o->parallel) || o->parallel < 1))
                return usage_error(cmd, "--parallel takes a number of changes at once from 1 to %d, not '%s'",
                                   PF_PARALLEL_MAX, optarg);
        if (c == OPT_RESYNC && !parse_count(optarg, 86400 * 7, &o->resync_s))
                return usage_error(cmd, "--resync takes seconds from 0 to 604800, not '%s'", optarg);
        return -1;
}

/* One option into o. -1: go on; else the exit code (help, version, usage error). */
static int set_option(const command *cmd, options *o, int c) {
        switch (c) {
        case 'f': o->files[o->n_files++] = optarg; break;
        case OPT_HOST: o->host = optarg; break;
        case 'v': o->verbose++; break;
        case 'q': o->quiet = true; break;
        case OPT_COLOR:
                if (!strcmp(optarg, "auto")) o->color = COLOR_AUTO;
                else if (!strcmp(optarg, "always")) o->color = COLOR_ALWAYS;
                else if (!strcmp(optarg, "never")) o->color = COLOR_NEVER;
                else return usage_error(cmd, "--color takes auto, always or never, not '%s'", optarg);
                break;
        case 'h':
                if (cmd)
                        usage_command(cmd, stdout);
                else
                        usage_main(stdout);
                return PF_EXIT_OK;
        case 'V':
                printf("podform %s\n", PACKAGE_VERSION);
                return PF_EXIT_OK;
        case OPT_CONNECT: o->connect = optarg; break;
        case 'o':
                if (!in_list(optarg, cmd->outputs))
                        return usage_error(cmd, "--output of 'podform %s' takes %s, not '%s'", cmd->name,
                                           spelled_list(cmd->outputs), optarg);
                o->output = optarg;
                break;
        case OPT_DETAILED: o->detailed_exitcode = true; break;
        case OPT_DRY_RUN: o->dry_run = true; break;
        case OPT_PRUNE: o->prune = true; break;
        case OPT_YES: o->yes = true; break;
        case OPT_ALLOW_RESTART: o->allow_restart = true; break;
        case OPT_OWNED:
        case OPT_ALL:
                if (o->scope_given && o->owned_only != (c == OPT_OWNED))
                        return usage_error(cmd, "%s", "--owned and --all cannot be combined");
                o->owned_only = c == OPT_OWNED;
                o->scope_given = true;
                break;
        case OPT_DEBOUNCE:
        case OPT_PARALLEL:
        case OPT_SHUTDOWN_TIMEOUT:
        case OPT_RESYNC:
                return set_count_option(cmd, o, c);
        }
        return -1;
}

int pf_cli_main(int argc, char **argv) {
        const command *cmd = NULL;
        if (argc >= 2 && argv[1][0] != '-') {
                for (size_t i = 0; i < N_COMMANDS; i++)
                        if (strcmp(argv[1], commands[i].name) == 0)
                                cmd = &commands[i];
                if (!cmd)
                        return usage_error(NULL, "unknown command '%s'", argv[1]);
                argv++;
                argc--;
        }
        options o = { .color = COLOR_AUTO, .shutdown_timeout_s = 120 };
        _cleanup_free_ const char **files = pf_xcalloc((size_t) argc, sizeof(*files));
        o.files = files;
        int c, long_index = -1;
        optind = 1;
        opterr = 0;     /* one message, ours, naming the option and the command */
        while ((c = getopt_long(argc, argv, "+:f:o:vqhV", long_options, &long_index)) != -1) {
                char spelled[64];
                if (c == '?' || c == ':')
                        return bad_option(cmd, c, argv[optind - 1]);
                option_spelling(c, long_index, spelled, sizeof(spelled));
                long_index = -1;
                unsigned need = option_need(c);
                if (need && !cmd)
                        return usage_error(cmd, "option '%s' goes after a command", spelled);
                if (need && !(cmd->accepts & need))
                        return usage_error(cmd, "option '%s' is not accepted by 'podform %s'", spelled, cmd->name);
                int done = set_option(cmd, &o, c);
                if (done >= 0)
                        return done;
        }
        if (optind < argc)
                return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (!cmd) {
                usage_main(stderr);
                return PF_EXIT_ERROR;
        }
        if (o.verbose && o.quiet)
                return usage_error(cmd, "%s", "-v and -q cannot be combined");
        return cmd->run(cmd, &o);
}
