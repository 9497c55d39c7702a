#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "slc-commands.h"

/*
 * The command table. Help text is generated from it, so a command added here is
 * documented in `--help` at once; keep data/stdiolinkctl.1 in step by hand.
 */

typedef gboolean (*SlcCommandFunc)(SlcContext *ctx, SlcArgs *args, GError **error);

/* one verb-level option, stored at @offset in #SlcArgs */
typedef struct {
	const char *long_name;
	GOptionArg arg;
	gsize offset;
	const char *arg_description; /* N_(), NULL for a flag */
	const char *description;     /* N_() */
	char short_name;	     /* 0: none */
} SlcOption;

struct _SlcCommand {
	const char *noun;
	const char *verb;	 /* NULL for a noun without verbs, e.g. `status` */
	const char *arguments;	 /* N_(), the positional arguments as shown in help */
	guint n_arguments;	 /* how many positional arguments it takes, exactly */
	const char *summary;	 /* N_() */
	const SlcOption *options; /* NULL-terminated by long_name, or NULL */
	SlcCommandFunc func;
	gboolean more_arguments; /* n_arguments or more */
};

typedef struct {
	const char *command_line; /* not translated: it is what the user types */
	const char *description;  /* N_() */
} SlcExample;

typedef struct {
	const char *name;
	const char *summary; /* N_() */
	const SlcExample *examples;
} SlcNoun;

/* TRANSLATORS: placeholders in help text, e.g. “--page N”, “projects show ID” */
#define SLC_ARG_ID NC_("placeholder", "ID")
#define SLC_ARG_IDS NC_("placeholder", "[ID…]")
#define SLC_ARG_N NC_("placeholder", "N")
#define SLC_ARG_MS NC_("placeholder", "MS")
#define SLC_ARG_FILE NC_("placeholder", "FILE")
#define SLC_ARG_JSON NC_("placeholder", "JSON")
#define SLC_ARG_TEXT NC_("placeholder", "TEXT")

#define SLC_OPTION(name, type, field) name, G_OPTION_ARG_##type, G_STRUCT_OFFSET(SlcArgs, field)

static const SlcOption projects_list_options[] = {
	{SLC_OPTION("page", INT, page), SLC_ARG_N,
	 N_("Show page N of the list, 100 projects per page (default: 1)")},
	{NULL},
};

static const SlcOption projects_validate_options[] = {
	{SLC_OPTION("config", STRING, config), SLC_ARG_JSON,
	 N_("Check this configuration object instead of the stored one")},
	{SLC_OPTION("config-file", FILENAME, config_file), SLC_ARG_FILE,
	 N_("Check the configuration object in FILE instead of the stored one")},
	{NULL},
};

/* create and update share their options, except that update takes the id as argument */
#define SLC_PROJECT_EDIT_OPTIONS                                                              \
	{SLC_OPTION("file", FILENAME, file), SLC_ARG_FILE,                                    \
	 N_("Start from the project object (JSON) in FILE; other options then change it")},   \
	{SLC_OPTION("name", STRING, name), SLC_ARG_TEXT, N_("The project's display name")},   \
	{SLC_OPTION("service", STRING, service), SLC_ARG_ID, N_("The service it runs")},      \
	{SLC_OPTION("schedule", STRING, schedule), NC_("placeholder", "TYPE"),                \
	 N_("How it is started: manual, fixed_rate or daemon")},                              \
	{SLC_OPTION("interval-ms", INT, interval_ms), SLC_ARG_MS,                             \
	 N_("fixed_rate: start an instance every MS milliseconds (at least 100)")},           \
	{SLC_OPTION("max-concurrent", INT, max_concurrent), SLC_ARG_N,                        \
	 N_("fixed_rate: run at most N instances at once")},                                  \
	{SLC_OPTION("restart-delay-ms", INT, restart_delay_ms), SLC_ARG_MS,                   \
	 N_("daemon: wait MS milliseconds before a restart")},                                \
	{SLC_OPTION("max-failures", INT, max_failures), SLC_ARG_N,                            \
	 N_("daemon: stop restarting after N failures in a row")},                            \
	{SLC_OPTION("run-timeout-ms", INT, run_timeout_ms), SLC_ARG_MS,                       \
	 N_("Kill an instance that runs longer than MS milliseconds (0: never)")},            \
	{SLC_OPTION("disabled", NONE, disabled), NULL,                                        \
	 N_("Save the project disabled: nothing starts it but “projects start”")},            \
	{SLC_OPTION("config", STRING, config), SLC_ARG_JSON,                                  \
	 N_("Use this configuration object")},                                                \
	{SLC_OPTION("config-file", FILENAME, config_file), SLC_ARG_FILE,                      \
	 N_("Use the configuration object in FILE")},                                         \
	{SLC_OPTION("set", STRING_ARRAY, set), NC_("placeholder", "KEY=VALUE"),               \
	 N_("Set one configuration value (JSON, else text); repeatable")}

static const SlcOption projects_create_options[] = {
	{SLC_OPTION("id", STRING, id), SLC_ARG_ID,
	 N_("The new project's id: letters, digits, “-” and “_”")},
	SLC_PROJECT_EDIT_OPTIONS,
	{NULL},
};

static const SlcOption projects_update_options[] = {
	SLC_PROJECT_EDIT_OPTIONS,
	{NULL},
};

#define SLC_LINES_OPTION                                                                      \
	{SLC_OPTION("lines", INT, lines), SLC_ARG_N,                                          \
	 N_("Print the last N lines, 1 to 5000 (default: 100)"), 'n'}

static const SlcOption projects_logs_options[] = {
	SLC_LINES_OPTION,
	{SLC_OPTION("follow", NONE, follow), NULL,
	 N_("Keep printing new lines as they are written, until Ctrl+C"), 'f'},
	{NULL},
};

static const SlcOption instances_logs_options[] = {
	SLC_LINES_OPTION,
	{NULL},
};

static const SlcOption instances_list_options[] = {
	{SLC_OPTION("project", STRING, project), SLC_ARG_ID,
	 N_("Only list the instances of project ID")},
	{NULL},
};

static const SlcOption services_create_options[] = {
	{SLC_OPTION("name", STRING, name), SLC_ARG_TEXT, N_("The display name (default: the id)")},
	{SLC_OPTION("service-version", STRING, version), SLC_ARG_TEXT,
	 N_("The service's version (default: 1.0)")},
	{SLC_OPTION("template", STRING, template_name), NC_("placeholder", "NAME"),
	 N_("empty (default), basic, driver_demo, or exec for a native service")},
	{SLC_OPTION("description", STRING, description), SLC_ARG_TEXT, N_("A description")},
	{SLC_OPTION("author", STRING, author), SLC_ARG_TEXT, N_("The author")},
	{NULL},
};

static const SlcOption services_delete_options[] = {
	{SLC_OPTION("force", NONE, force), NULL,
	 N_("Delete it although projects use it; they become invalid and stop")},
	{NULL},
};

static const SlcOption services_put_options[] = {
	{SLC_OPTION("file", FILENAME, file), SLC_ARG_FILE,
	 N_("Upload FILE instead of standard input")},
	{NULL},
};

/* `--data` is stored in the `config` field: both are one JSON object given as text */
static const SlcOption driver_exec_options[] = {
	{SLC_OPTION("data", STRING, config), SLC_ARG_JSON,
	 N_("The command's data object; KEY=VALUE arguments are added to it")},
	{NULL},
};

#define SLC_NO_WAIT_OPTION                                                                    \
	{SLC_OPTION("no-wait", NONE, no_wait), NULL,                                          \
	 N_("Print the job's id and return instead of following the job to its end")}

static const SlcOption drivers_scan_options[] = {
	{SLC_OPTION("no-refresh", NONE, no_refresh), NULL,
	 N_("Keep existing metadata files; export only where there is none")},
	SLC_NO_WAIT_OPTION,
	{NULL},
};

static const SlcOption services_scan_options[] = {
	{SLC_OPTION("no-revalidate", NONE, no_revalidate), NULL,
	 N_("Do not validate the projects again against the new services")},
	{SLC_OPTION("no-restart-scheduling", NONE, no_restart_scheduling), NULL,
	 N_("Leave the schedules as they are")},
	{SLC_OPTION("stop-invalid", NONE, stop_invalid), NULL,
	 N_("Stop the projects that are invalid after the scan and kill their instances")},
	SLC_NO_WAIT_OPTION,
	{NULL},
};

static const SlcOption jobs_list_options[] = {
	{SLC_OPTION("kind", STRING, kind), NC_("placeholder", "KIND"),
	 N_("Only jobs of this kind: drivers.scan or services.scan")},
	{SLC_OPTION("status", STRING, status), NC_("placeholder", "STATUS"),
	 N_("Only jobs in this status: queued, running, succeeded, failed or canceled")},
	{NULL},
};

static const SlcOption events_options[] = {
	{SLC_OPTION("type", STRING_ARRAY, types), NC_("placeholder", "TYPE"),
	 N_("Only events whose type starts with TYPE, e.g. “instance”; repeatable")},
	{SLC_OPTION("project", STRING, project), SLC_ARG_ID, N_("Only the events of project ID")},
	{NULL},
};

static const SlcCommand commands[] = {
	{"status", NULL, "", 0, N_("Show the daemon's version, uptime and counts"), NULL,
	 slc_cmd_status},
	{"services", "list", "", 0, N_("List the loaded services"), NULL, slc_cmd_services_list},
	{"services", "show", SLC_ARG_ID, 1,
	 N_("Show a service, its configuration fields and its projects"), NULL,
	 slc_cmd_services_show},
	{"services", "create", SLC_ARG_ID, 1, N_("Create a service folder from a template"),
	 services_create_options, slc_cmd_services_create},
	{"services", "delete", SLC_ARG_ID, 1, N_("Delete a service and its folder"),
	 services_delete_options, slc_cmd_services_delete},
	{"services", "files", SLC_ARG_ID, 1, N_("List the files of a service"), NULL,
	 slc_cmd_services_files},
	{"services", "cat", NC_("placeholder", "ID PATH"), 2, N_("Print a file of a service"),
	 NULL, slc_cmd_services_cat},
	{"services", "put", NC_("placeholder", "ID PATH"), 2,
	 N_("Write a file of a service from standard input or --file"), services_put_options,
	 slc_cmd_services_put},
	{"services", "rm", NC_("placeholder", "ID PATH"), 2, N_("Delete a file of a service"),
	 NULL, slc_cmd_services_rm},
	{"services", "scan", "", 0,
	 N_("Scan the services folder again and revalidate the projects; wait for the job"),
	 services_scan_options, slc_cmd_services_scan},
	{"projects", "list", "", 0, N_("List the projects with their status"),
	 projects_list_options, slc_cmd_projects_list},
	{"projects", "show", SLC_ARG_ID, 1,
	 N_("Show one project: schedule, configuration and live instances"), NULL,
	 slc_cmd_projects_show},
	{"projects", "validate", SLC_ARG_ID, 1,
	 N_("Check a project's configuration (exit status 1 if it is invalid)"),
	 projects_validate_options, slc_cmd_projects_validate},
	{"projects", "start", SLC_ARG_ID, 1,
	 N_("Start an instance of the project now (disabled projects too)"), NULL,
	 slc_cmd_projects_start},
	{"projects", "stop", SLC_ARG_ID, 1,
	 N_("Stop the project's schedule and kill its instances"), NULL, slc_cmd_projects_stop},
	{"projects", "create", "", 0, N_("Create a project from a file or from options"),
	 projects_create_options, slc_cmd_projects_create},
	{"projects", "update", SLC_ARG_ID, 1,
	 N_("Change a project; what the options do not name stays as it is"),
	 projects_update_options, slc_cmd_projects_update},
	{"projects", "delete", SLC_ARG_ID, 1,
	 N_("Delete a project after killing its instances (its log is kept)"), NULL,
	 slc_cmd_projects_delete},
	{"projects", "enable", SLC_ARG_ID, 1, N_("Enable a project and resume its schedule"),
	 NULL, slc_cmd_projects_enable},
	{"projects", "disable", SLC_ARG_ID, 1,
	 N_("Disable a project and kill its instances"), NULL, slc_cmd_projects_disable},
	{"projects", "reload", SLC_ARG_ID, 1,
	 N_("Read a project again from its folder on disk"), NULL, slc_cmd_projects_reload},
	{"projects", "runtime", SLC_ARG_IDS, 0,
	 N_("Show the scheduler's state of projects (all if no ID)"),
	 NULL, slc_cmd_projects_runtime, TRUE},
	{"projects", "logs", SLC_ARG_ID, 1, N_("Print the end of a project's log, or follow it"),
	 projects_logs_options, slc_cmd_projects_logs},
	{"instances", "list", "", 0, N_("List the live instances"), instances_list_options,
	 slc_cmd_instances_list},
	{"instances", "show", SLC_ARG_ID, 1,
	 N_("Show an instance: PID, command line, directory, log file"), NULL,
	 slc_cmd_instances_show},
	{"instances", "logs", SLC_ARG_ID, 1, N_("Print the end of an instance's log"),
	 instances_logs_options, slc_cmd_instances_logs},
	{"instances", "tree", SLC_ARG_ID, 1,
	 N_("Show an instance's processes as a tree with CPU and memory use"), NULL,
	 slc_cmd_instances_tree},
	{"instances", "resources", SLC_ARG_ID, 1,
	 N_("Show the resource use of each of an instance's processes"), NULL,
	 slc_cmd_instances_resources},
	{"instances", "terminate", SLC_ARG_ID, 1, N_("Kill one instance (SIGKILL)"), NULL,
	 slc_cmd_instances_terminate},
	{"drivers", "list", "", 0, N_("List the drivers in the catalogue"), NULL,
	 slc_cmd_drivers_list},
	{"drivers", "show", SLC_ARG_ID, 1, N_("Show one driver's metadata and commands"), NULL,
	 slc_cmd_drivers_show},
	{"drivers", "meta", SLC_ARG_ID, 1, N_("Print a driver's metadata as JSON"), NULL,
	 slc_cmd_drivers_meta},
	{"drivers", "docs", NC_("placeholder", "ID [FORMAT]"), 1,
	 N_("Print a driver's documentation: markdown (default), html, openapi or ts"), NULL,
	 slc_cmd_drivers_docs, TRUE},
	{"drivers", "scan", "", 0,
	 N_("Scan the drivers folder again, exporting metadata; wait for the job"),
	 drivers_scan_options, slc_cmd_drivers_scan},
	{"driver", "exec", NC_("placeholder", "ID COMMAND [KEY=VALUE…]"), 2,
	 N_("Run one command on a driver and print its events and result"),
	 driver_exec_options, slc_cmd_driver_exec, TRUE},
	{"jobs", "list", "", 0, N_("List the jobs the daemon remembers, oldest first"),
	 jobs_list_options, slc_cmd_jobs_list},
	{"jobs", "show", SLC_ARG_ID, 1, N_("Show a job: status, progress, result or error"),
	 NULL, slc_cmd_jobs_show},
	{"jobs", "wait", SLC_ARG_ID, 1,
	 N_("Follow a job to its end, then show it (exit status 4 if it failed)"), NULL,
	 slc_cmd_jobs_wait},
	{"jobs", "cancel", SLC_ARG_ID, 1, N_("Cancel a queued or running job"), NULL,
	 slc_cmd_jobs_cancel},
	{"events", NULL, "", 0, N_("Print the daemon's events as they happen, until Ctrl+C"),
	 events_options, slc_cmd_events},
};

static const SlcExample status_examples[] = {
	{"stdiolinkctl status", N_("Check that the daemon is up and see what it holds")},
	{"stdiolinkctl --url http://127.0.0.1:7000 status", N_("Ask a daemon on another port")},
	{NULL},
};

static const SlcExample services_examples[] = {
	{"stdiolinkctl services list", N_("List every service the daemon has loaded")},
	{"stdiolinkctl services show demo", N_("Show the configuration fields of service demo")},
	{"stdiolinkctl services scan --stop-invalid",
	 N_("Load changed services and stop the projects they make invalid")},
	{NULL},
};

static const SlcExample projects_examples[] = {
	{"stdiolinkctl projects list", N_("List the first 100 projects")},
	{"stdiolinkctl projects show radar1", N_("Show project radar1")},
	{"stdiolinkctl projects create --id radar1 --name 'Radar 1' --service radar "
	 "--schedule daemon --set port=8080",
	 N_("Create a project that runs all the time")},
	{"stdiolinkctl projects create --file radar1.json", N_("Create a project from a file")},
	{"stdiolinkctl projects update radar1 --set port=8081 --run-timeout-ms 60000",
	 N_("Change one configuration value and the run timeout, keep the rest")},
	{"stdiolinkctl projects delete radar1", N_("Delete radar1; its log file stays")},
	{"stdiolinkctl projects disable radar1", N_("Stop scheduling radar1 and kill it")},
	{"stdiolinkctl projects enable radar1", N_("Schedule radar1 again")},
	{"stdiolinkctl projects reload radar1",
	 N_("Pick up changes made by hand in the folder projects/radar1/")},
	{"stdiolinkctl projects validate radar1", N_("Re-check the stored configuration")},
	{"stdiolinkctl projects validate radar1 --config '{\"port\": 8080}'",
	 N_("Check a new configuration without saving it")},
	{"stdiolinkctl projects start radar1", N_("Start an instance now")},
	{"stdiolinkctl projects stop radar1", N_("Pause the schedule and kill the instances")},
	{"stdiolinkctl projects logs radar1 -n 20 -f",
	 N_("Print the last 20 log lines, then new ones as they come")},
	{"stdiolinkctl projects runtime", N_("See which schedules are armed or suppressed")},
	{"stdiolinkctl --json projects list | jq -r '.projects[].id'",
	 N_("Print only the project ids")},
	{NULL},
};

static const SlcExample instances_examples[] = {
	{"stdiolinkctl instances list --project radar1", N_("List the instances of radar1")},
	{"stdiolinkctl instances show inst_0123abcd", N_("Show where an instance runs and logs")},
	{"stdiolinkctl instances tree inst_0123abcd",
	 N_("Show the processes an instance started")},
	{"stdiolinkctl instances resources inst_0123abcd",
	 N_("Show CPU, memory and I/O per process")},
	{"stdiolinkctl instances logs inst_0123abcd -n 50",
	 N_("Print the last 50 lines of the instance's project log")},
	{"stdiolinkctl instances terminate inst_0123abcd", N_("Kill one instance")},
	{NULL},
};

static const SlcExample driver_examples[] = {
	{"stdiolinkctl driver exec demo.calculator add a=1 b=2", N_("Add two numbers")},
	{"stdiolinkctl driver exec demo.heartbeat beat --data '{\"count\": 5}'",
	 N_("Print five beat events as they come, then the result")},
	{"stdiolinkctl --json driver exec demo.kvstore list",
	 N_("The driver's answer as JSON lines")},
	{NULL},
};

static const SlcExample drivers_examples[] = {
	{"stdiolinkctl drivers list", N_("List the driver catalogue")},
	{"stdiolinkctl drivers show modbus", N_("Show the commands driver modbus offers")},
	{"stdiolinkctl drivers scan", N_("Load new and changed drivers, with a progress bar")},
	{"stdiolinkctl drivers scan --no-refresh --no-wait",
	 N_("Start a scan that keeps existing metadata and print its job id")},
	{NULL},
};

static const SlcExample jobs_examples[] = {
	{"stdiolinkctl jobs list --status running", N_("List the jobs that are running")},
	{"stdiolinkctl jobs wait 0123456789abcdef", N_("Wait for a job and show its result")},
	{"stdiolinkctl jobs cancel 0123456789abcdef", N_("Cancel a job")},
	{NULL},
};

static const SlcExample events_examples[] = {
	{"stdiolinkctl events", N_("Print every event until Ctrl+C")},
	{"stdiolinkctl events --type instance --project radar1",
	 N_("Only the instance events of radar1")},
	{"stdiolinkctl --json events | jq -c 'select(.type == \"instance.finished\")'",
	 N_("One JSON object per event, for scripts")},
	{NULL},
};

static const SlcNoun nouns[] = {
	{"status", N_("Show the daemon's status"), status_examples},
	{"services", N_("Inspect services: the programs projects run"), services_examples},
	{"projects", N_("Create, change, inspect, start and stop projects"), projects_examples},
	{"instances", N_("Inspect running instances, their logs and processes; terminate them"),
	 instances_examples},
	{"drivers", N_("Inspect and rescan the driver catalogue"), drivers_examples},
	{"driver", N_("Try a driver: run one of its commands (DriverLab)"), driver_examples},
	{"jobs", N_("List, follow and cancel the daemon's jobs (scans)"), jobs_examples},
	{"events", N_("Watch the daemon's event stream"), events_examples},
};

/* placeholders in help text have their own context: “ID” there is not a column title */
static const char *
placeholder(const char *text)
{
	return g_dpgettext2(GETTEXT_PACKAGE, "placeholder", text);
}

static const SlcNoun *
find_noun(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(nouns); i++) {
		if (g_strcmp0(nouns[i].name, name) == 0)
			return &nouns[i];
	}
	return NULL;
}

/**
 * slc_commands_noun_has_verbs:
 * @noun: a command group
 *
 * Returns: %TRUE if @noun is followed by a verb (`projects list`), %FALSE if it is a
 * command on its own (`status`) or unknown
 */
gboolean
slc_commands_noun_has_verbs(const char *noun)
{
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_str_equal(commands[i].noun, noun) && commands[i].verb != NULL)
			return TRUE;
	}
	return FALSE;
}

static char *
verbs_of(const char *noun)
{
	g_autoptr(GPtrArray) verbs = g_ptr_array_new();

	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_str_equal(commands[i].noun, noun) && commands[i].verb != NULL)
			g_ptr_array_add(verbs, (gpointer)commands[i].verb);
	}
	g_ptr_array_add(verbs, NULL);
	return g_strjoinv(", ", (char **)verbs->pdata);
}

/**
 * slc_commands_lookup:
 * @noun: the first word
 * @verb: (nullable): the second word; ignored for a noun without verbs
 * @error: return location for a #GError
 *
 * Returns: (transfer none): the command, or %NULL with %SLC_ERROR_USAGE
 */
const SlcCommand *
slc_commands_lookup(const char *noun, const char *verb, GError **error)
{
	g_autofree char *verbs = NULL;

	if (find_noun(noun) == NULL) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    _("unknown command “%s”; run “stdiolinkctl --help” for the list"),
			    noun);
		return NULL;
	}

	/* a noun without verbs is the command itself */
	if (!slc_commands_noun_has_verbs(noun)) {
		for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
			if (g_str_equal(commands[i].noun, noun))
				return &commands[i];
		}
	}

	verbs = verbs_of(noun);
	if (verb == NULL) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    /* TRANSLATORS: %s is a command group, the second a list of commands */
			    _("“%s” needs a command: %s"),
			    noun,
			    verbs);
		return NULL;
	}
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_str_equal(commands[i].noun, noun) && g_strcmp0(commands[i].verb, verb) == 0)
			return &commands[i];
	}
	g_set_error(error,
		    SLC_ERROR,
		    SLC_ERROR_USAGE,
		    /* TRANSLATORS: unknown command “<verb>” for “<noun>”; then the valid ones */
		    _("unknown command “%s” for “%s”; expected one of: %s"),
		    verb,
		    noun,
		    verbs);
	return NULL;
}

static GOptionEntry *
build_entries(const SlcCommand *command, SlcArgs *args)
{
	GArray *entries = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
	GOptionEntry remaining = {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY,
				  &args->positional, NULL, NULL};

	for (const SlcOption *o = command->options; o != NULL && o->long_name != NULL; o++) {
		GOptionEntry entry = {o->long_name, o->short_name, 0, o->arg,
				      G_STRUCT_MEMBER_P(args, o->offset),
				      o->description, o->arg_description};

		g_array_append_val(entries, entry);
	}
	g_array_append_val(entries, remaining);
	return (GOptionEntry *)g_array_free(entries, FALSE);
}

static const char *
command_name(const SlcCommand *command, GString *buf)
{
	g_string_assign(buf, command->noun);
	if (command->verb != NULL)
		g_string_append_printf(buf, " %s", command->verb);
	return buf->str;
}

static gboolean
check_positional(const SlcCommand *command, SlcArgs *args, GError **error)
{
	guint n = args->positional != NULL ? g_strv_length(args->positional) : 0;
	g_autoptr(GString) name = g_string_new(NULL);

	if (n < command->n_arguments) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    /* TRANSLATORS: “projects show” needs an argument: ID */
			    _("“%s” needs an argument: %s"),
			    command_name(command, name),
			    placeholder(command->arguments));
		return FALSE;
	}
	if (n > command->n_arguments && !command->more_arguments) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    _("unexpected argument “%s” for “%s”"),
			    args->positional[command->n_arguments],
			    command_name(command, name));
		return FALSE;
	}
	return TRUE;
}

/**
 * slc_commands_parse_args:
 * @command: the command
 * @argv: the words after the verb (global options already removed)
 * @args: (out caller-allocates): where options and positional arguments go
 * @error: return location for a #GError
 *
 * Parses the command's own options and checks the number of positional arguments.
 *
 * Returns: %TRUE on success, %FALSE with %SLC_ERROR_USAGE
 */
gboolean
slc_commands_parse_args(const SlcCommand *command,
			GPtrArray *argv,
			SlcArgs *args,
			GError **error)
{
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autofree GOptionEntry *entries = build_entries(command, args);
	g_autoptr(GPtrArray) strv = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) words = NULL;
	g_autoptr(GError) local_error = NULL;

	/* defaults of the options that have one; SLC_UNSET tells "not given" from 0 */
	args->page = 1;
	args->lines = SLC_DEFAULT_LOG_LINES;
	args->interval_ms = SLC_UNSET;
	args->max_concurrent = SLC_UNSET;
	args->restart_delay_ms = SLC_UNSET;
	args->max_failures = SLC_UNSET;
	args->run_timeout_ms = SLC_UNSET;

	/* GOption wants a program name first and frees what it removes */
	g_ptr_array_add(strv, g_strdup("stdiolinkctl"));
	for (guint i = 0; i < argv->len; i++)
		g_ptr_array_add(strv, g_strdup(g_ptr_array_index(argv, i)));
	g_ptr_array_add(strv, NULL);
	words = (GStrv)g_ptr_array_free(g_steal_pointer(&strv), FALSE);

	g_option_context_set_help_enabled(context, FALSE);
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse_strv(context, &words, &local_error)) {
		g_set_error_literal(error, SLC_ERROR, SLC_ERROR_USAGE, local_error->message);
		return FALSE;
	}

	return check_positional(command, args, error);
}

/**
 * slc_commands_run:
 * @command: the command
 * @ctx: the context
 * @args: the parsed arguments
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the command succeeded
 */
gboolean
slc_commands_run(const SlcCommand *command, SlcContext *ctx, SlcArgs *args, GError **error)
{
	return command->func(ctx, args, error);
}

/* "projects validate ID [OPTIONS]" */
static char *
command_synopsis(const SlcCommand *command)
{
	GString *out = g_string_new(command->noun);

	if (command->verb != NULL)
		g_string_append_printf(out, " %s", command->verb);
	if (command->arguments != NULL && *command->arguments != '\0')
		g_string_append_printf(out, " %s", placeholder(command->arguments));
	/* the options themselves are listed in the group's help */
	if (command->options != NULL)
		g_string_append_printf(out, " %s", _("[OPTIONS]"));
	return g_string_free(out, FALSE);
}

static void
add_commands(SlcTable *table, const char *noun)
{
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		g_autofree char *synopsis = NULL;

		if (noun != NULL && !g_str_equal(commands[i].noun, noun))
			continue;
		synopsis = command_synopsis(&commands[i]);
		slc_table_add_row(table, "", synopsis, _(commands[i].summary), NULL);
	}
}

/* "-n, --lines N", "--disabled" */
static char *
option_synopsis(const SlcOption *option)
{
	GString *out = g_string_new(NULL);

	if (option->short_name != 0)
		g_string_append_printf(out, "-%c, ", option->short_name);
	g_string_append_printf(out, "--%s", option->long_name);
	if (option->arg_description != NULL)
		g_string_append_printf(out, " %s", placeholder(option->arg_description));
	return g_string_free(out, FALSE);
}

/* one row of the option table: an option and the verbs that take it */
typedef struct {
	const SlcOption *option;
	GString *verbs;
} SlcOptionRow;

static void
option_row_clear(SlcOptionRow *row)
{
	g_string_free(row->verbs, TRUE);
}

static SlcOptionRow *
find_option_row(GArray *rows, const SlcOption *option)
{
	for (guint i = 0; i < rows->len; i++) {
		SlcOptionRow *row = &g_array_index(rows, SlcOptionRow, i);

		if (g_str_equal(row->option->long_name, option->long_name) &&
		    g_str_equal(row->option->description, option->description))
			return row;
	}
	return NULL;
}

/* the options of @noun's commands (only @verb's if given); one row for an option that
 * several verbs share */
static GArray *
collect_options(const char *noun, const char *verb)
{
	GArray *rows = g_array_new(FALSE, FALSE, sizeof(SlcOptionRow));

	g_array_set_clear_func(rows, (GDestroyNotify)option_row_clear);
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		const SlcCommand *c = &commands[i];

		if (!g_str_equal(c->noun, noun) || (verb != NULL && g_strcmp0(c->verb, verb) != 0))
			continue;
		for (const SlcOption *o = c->options; o != NULL && o->long_name != NULL; o++) {
			SlcOptionRow *row = find_option_row(rows, o);
			SlcOptionRow added = {o, NULL};

			if (row != NULL) {
				g_string_append_printf(row->verbs, ", %s", c->verb);
				continue;
			}
			added.verbs = g_string_new(c->verb);
			g_array_append_val(rows, added);
		}
	}
	return rows;
}

static void
add_options(SlcTable *table, const char *noun, const char *verb)
{
	g_autoptr(GArray) rows = collect_options(noun, verb);

	for (guint i = 0; i < rows->len; i++) {
		SlcOptionRow *row = &g_array_index(rows, SlcOptionRow, i);
		g_autofree char *option = option_synopsis(row->option);
		g_autofree char *text = NULL;

		/* the verbs are said only where the table mixes several */
		if (verb == NULL && row->verbs->len > 0) {
			/* TRANSLATORS: "(validate) Check ...": the commands an option belongs to */
			text = g_strdup_printf(_("(%s) %s"), row->verbs->str,
					       _(row->option->description));
		} else {
			text = g_strdup(_(row->option->description));
		}
		slc_table_add_row(table, "", option, text, NULL);
	}
}

static void
print_table(SlcTable *table)
{
	g_autofree char *text = slc_table_render(table, FALSE);

	fputs(text, stdout);
}

/* an example of @noun that uses @verb (any, if NULL) */
static gboolean
example_matches(const SlcNoun *noun, const SlcExample *example, const char *verb)
{
	g_autofree char *words = NULL;
	const char *found;

	if (verb == NULL)
		return TRUE;
	words = g_strdup_printf(" %s %s", noun->name, verb);
	found = strstr(example->command_line, words);
	if (found == NULL)
		return FALSE;
	found += strlen(words);
	return *found == ' ' || *found == '\0';
}

static gboolean
has_examples(const SlcNoun *noun, const char *verb)
{
	for (const SlcExample *e = noun->examples; e->command_line != NULL; e++) {
		if (example_matches(noun, e, verb))
			return TRUE;
	}
	return FALSE;
}

static void
print_examples(const SlcNoun *noun, const char *verb)
{
	for (const SlcExample *e = noun->examples; e->command_line != NULL; e++) {
		if (example_matches(noun, e, verb))
			printf("  %s\n      %s\n", e->command_line, _(e->description));
	}
}

static void
print_global_options(void)
{
	g_autoptr(SlcTable) table = slc_table_new(3);
	g_autofree char *url_help = NULL;
	g_autofree char *url_option = NULL;

	/* TRANSLATORS: %s is the default address, http://127.0.0.1:6200 */
	url_help = g_strdup_printf(_("The daemon's address (default: $STDIOLINK_URL, then %s)"),
				   SLC_DEFAULT_URL);
	url_option = g_strdup_printf("--url %s", C_("placeholder", "URL"));
	slc_table_add_row(table, "", url_option, url_help, NULL);
	slc_table_add_row(table, "", "--token-file FILE",
			  _("Send the API token read from FILE (default: $STDIOLINK_TOKEN)"), NULL);
	slc_table_add_row(table, "", "--json",
			  _("Print the API's JSON answer instead of tables"), NULL);
	slc_table_add_row(table, "", "-h, --help",
			  _("Show help; after a command group or a command, the help of that one"),
			  NULL);
	slc_table_add_row(table, "", "--version", _("Show the program's version"), NULL);
	print_table(table);
}

static void
print_exit_statuses(void)
{
	g_autoptr(SlcTable) table = slc_table_new(3);

	slc_table_add_row(table, "", "0", _("Success"), NULL);
	slc_table_add_row(table, "", "1", _("The daemon refused or failed the request"), NULL);
	slc_table_add_row(table, "", "2", _("Usage error: unknown command, missing argument, "
					    "bad option"), NULL);
	slc_table_add_row(table, "", "3", _("The daemon cannot be reached"), NULL);
	slc_table_add_row(table, "", "4", _("A waited-for job or instance failed"), NULL);
	print_table(table);
}

static void
print_program_help(void)
{
	g_autoptr(SlcTable) table = slc_table_new(3);

	printf("%s\n  stdiolinkctl [--url %s] [--json] %s\n\n",
	       _("Usage:"),
	       /* TRANSLATORS: placeholders in the usage line */
	       C_("placeholder", "URL"),
	       _("COMMAND [ARGUMENTS…]"));
	printf("%s\n\n", _("Control a running stdiolinkd daemon over its HTTP API."));

	printf("%s\n", _("Commands:"));
	add_commands(table, NULL);
	print_table(table);

	printf("\n%s\n", _("Options:"));
	print_global_options();

	printf("\n%s\n", _("Examples:"));
	for (guint i = 0; i < G_N_ELEMENTS(nouns); i++)
		print_examples(&nouns[i], NULL);

	printf("\n%s\n", _("Exit status:"));
	print_exit_statuses();

	printf("\n%s\n",
	       _("Run “stdiolinkctl COMMAND --help” for the commands of one group,\n"
		 "e.g. “stdiolinkctl projects --help”."));
}

static void
print_noun_help(const SlcNoun *noun)
{
	g_autoptr(SlcTable) command_table = slc_table_new(3);
	g_autoptr(SlcTable) option_table = slc_table_new(3);
	g_autofree char *usage = NULL;

	if (slc_commands_noun_has_verbs(noun->name))
		usage = g_strdup_printf("%s %s", noun->name, _("COMMAND [ARGUMENTS…]"));
	else
		usage = command_synopsis(slc_commands_lookup(noun->name, NULL, NULL));
	printf("%s\n  stdiolinkctl [--url %s] [--json] %s\n\n",
	       _("Usage:"),
	       C_("placeholder", "URL"),
	       usage);
	printf("%s\n\n", _(noun->summary));

	printf("%s\n", _("Commands:"));
	add_commands(command_table, noun->name);
	print_table(command_table);

	add_options(option_table, noun->name, NULL);
	if (slc_table_get_n_rows(option_table) > 0) {
		printf("\n%s\n", _("Options:"));
		print_table(option_table);
	}

	printf("\n%s\n", _("Examples:"));
	print_examples(noun, NULL);

	printf("\n%s\n", _("Run “stdiolinkctl --help” for the global options and exit statuses."));
}

static void
print_command_help(const SlcNoun *noun, const SlcCommand *command)
{
	g_autoptr(SlcTable) option_table = slc_table_new(3);
	g_autofree char *synopsis = command_synopsis(command);

	printf("%s\n  stdiolinkctl [--url %s] [--json] %s\n\n",
	       _("Usage:"),
	       C_("placeholder", "URL"),
	       synopsis);
	printf("%s\n", _(command->summary));

	add_options(option_table, command->noun, command->verb);
	if (slc_table_get_n_rows(option_table) > 0) {
		printf("\n%s\n", _("Options:"));
		print_table(option_table);
	}

	if (has_examples(noun, command->verb)) {
		printf("\n%s\n", _("Examples:"));
		print_examples(noun, command->verb);
	}

	printf("\n%s\n", _("Run “stdiolinkctl --help” for the global options and exit statuses."));
}

/**
 * slc_commands_print_help:
 * @noun: (nullable): a command group, or %NULL for the program's help
 * @verb: (nullable): a command of @noun, or %NULL for the help of the whole group
 * @error: return location for a #GError
 *
 * Prints help to stdout.
 *
 * Returns: %TRUE, or %FALSE with %SLC_ERROR_USAGE if @noun or @verb is unknown
 */
gboolean
slc_commands_print_help(const char *noun, const char *verb, GError **error)
{
	const SlcNoun *found;
	const SlcCommand *command;

	if (noun == NULL) {
		print_program_help();
		return TRUE;
	}
	found = find_noun(noun);
	if (found == NULL) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    _("unknown command “%s”; run “stdiolinkctl --help” for the list"),
			    noun);
		return FALSE;
	}
	if (verb == NULL) {
		print_noun_help(found);
		return TRUE;
	}
	command = slc_commands_lookup(noun, verb, error);
	if (command == NULL)
		return FALSE;
	print_command_help(found, command);
	return TRUE;
}

/**
 * slc_commands_print_usage_hint:
 *
 * Prints the short usage to stderr, for a call without a command.
 */
void
slc_commands_print_usage_hint(void)
{
	g_autoptr(GString) nouns_list = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(nouns); i++) {
		if (i > 0)
			g_string_append(nouns_list, ", ");
		g_string_append(nouns_list, nouns[i].name);
	}
	fprintf(stderr,
		"%s\n  stdiolinkctl [--url %s] [--json] %s\n",
		_("Usage:"),
		C_("placeholder", "URL"),
		_("COMMAND [ARGUMENTS…]"));
	/* TRANSLATORS: %s is the list of command groups */
	fprintf(stderr, _("Commands: %s\n"), nouns_list->str);
	fprintf(stderr, "%s\n", _("Run “stdiolinkctl --help” for details and examples."));
}
