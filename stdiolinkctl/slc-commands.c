#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

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
	const char *arg_description; /* N_() */
	const char *description;     /* N_() */
} SlcOption;

struct _SlcCommand {
	const char *noun;
	const char *verb;	 /* NULL for a noun without verbs, e.g. `status` */
	const char *arguments;	 /* N_(), the positional arguments as shown in help */
	guint n_arguments;	 /* how many positional arguments it takes, exactly */
	const char *summary;	 /* N_() */
	const SlcOption *options; /* NULL-terminated by long_name, or NULL */
	SlcCommandFunc func;
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

static const SlcOption projects_list_options[] = {
	{"page", G_OPTION_ARG_INT, G_STRUCT_OFFSET(SlcArgs, page),
	 /* TRANSLATORS: placeholder for a number in help text */
	 NC_("placeholder", "N"),
	 N_("Show page N of the list, 100 projects per page (default: 1)")},
	{NULL},
};

static const SlcOption projects_validate_options[] = {
	{"config", G_OPTION_ARG_STRING, G_STRUCT_OFFSET(SlcArgs, config),
	 /* TRANSLATORS: placeholder for JSON text in help text */
	 NC_("placeholder", "JSON"),
	 N_("Check this configuration object instead of the stored one")},
	{"config-file", G_OPTION_ARG_FILENAME, G_STRUCT_OFFSET(SlcArgs, config_file),
	 /* TRANSLATORS: placeholder for a file name in help text */
	 NC_("placeholder", "FILE"),
	 N_("Check the configuration object in FILE instead of the stored one")},
	{NULL},
};

static const SlcOption instances_list_options[] = {
	{"project", G_OPTION_ARG_STRING, G_STRUCT_OFFSET(SlcArgs, project), SLC_ARG_ID,
	 N_("Only list the instances of project ID")},
	{NULL},
};

static const SlcCommand commands[] = {
	{"status", NULL, "", 0, N_("Show the daemon's version, uptime and counts"), NULL,
	 slc_cmd_status},
	{"services", "list", "", 0, N_("List the loaded services"), NULL, slc_cmd_services_list},
	{"services", "show", SLC_ARG_ID, 1,
	 N_("Show a service, its configuration fields and its projects"), NULL,
	 slc_cmd_services_show},
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
	{"instances", "list", "", 0, N_("List the live instances"), instances_list_options,
	 slc_cmd_instances_list},
	{"instances", "show", SLC_ARG_ID, 1,
	 N_("Show an instance: PID, command line, directory, log file"), NULL,
	 slc_cmd_instances_show},
	{"instances", "terminate", SLC_ARG_ID, 1, N_("Kill one instance (SIGKILL)"), NULL,
	 slc_cmd_instances_terminate},
	{"drivers", "list", "", 0, N_("List the drivers in the catalogue"), NULL,
	 slc_cmd_drivers_list},
	{"drivers", "show", SLC_ARG_ID, 1, N_("Show one driver's metadata and commands"), NULL,
	 slc_cmd_drivers_show},
};

static const SlcExample status_examples[] = {
	{"stdiolinkctl status", N_("Check that the daemon is up and see what it holds")},
	{"stdiolinkctl --url http://127.0.0.1:7000 status", N_("Ask a daemon on another port")},
	{NULL},
};

static const SlcExample services_examples[] = {
	{"stdiolinkctl services list", N_("List every service the daemon has loaded")},
	{"stdiolinkctl services show demo", N_("Show the configuration fields of service demo")},
	{NULL},
};

static const SlcExample projects_examples[] = {
	{"stdiolinkctl projects list", N_("List the first 100 projects")},
	{"stdiolinkctl projects show radar1", N_("Show project radar1")},
	{"stdiolinkctl projects validate radar1", N_("Re-check the stored configuration")},
	{"stdiolinkctl projects validate radar1 --config '{\"port\": 8080}'",
	 N_("Check a new configuration without saving it")},
	{"stdiolinkctl projects start radar1", N_("Start an instance now")},
	{"stdiolinkctl --json projects list | jq -r '.projects[].id'",
	 N_("Print only the project ids")},
	{NULL},
};

static const SlcExample instances_examples[] = {
	{"stdiolinkctl instances list --project radar1", N_("List the instances of radar1")},
	{"stdiolinkctl instances show inst_0123abcd", N_("Show where an instance runs and logs")},
	{"stdiolinkctl instances terminate inst_0123abcd", N_("Kill one instance")},
	{NULL},
};

static const SlcExample drivers_examples[] = {
	{"stdiolinkctl drivers list", N_("List the driver catalogue")},
	{"stdiolinkctl drivers show modbus", N_("Show the commands driver modbus offers")},
	{NULL},
};

static const SlcNoun nouns[] = {
	{"status", N_("Show the daemon's status"), status_examples},
	{"services", N_("Inspect services: the programs projects run"), services_examples},
	{"projects", N_("Inspect, check, start and stop projects"), projects_examples},
	{"instances", N_("Inspect and terminate running instances"), instances_examples},
	{"drivers", N_("Inspect the driver catalogue"), drivers_examples},
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
		GOptionEntry entry = {o->long_name, 0, 0, o->arg,
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
	if (n > command->n_arguments) {
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

	/* defaults of the options that have one */
	args->page = 1;

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

static void
add_options(SlcTable *table, const char *noun)
{
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		const SlcCommand *c = &commands[i];

		if (!g_str_equal(c->noun, noun))
			continue;
		for (const SlcOption *o = c->options; o != NULL && o->long_name != NULL; o++) {
			g_autofree char *option = g_strdup_printf("--%s %s", o->long_name,
								  placeholder(o->arg_description));
			/* TRANSLATORS: "(validate) Check ...": the command an option belongs to */
			g_autofree char *text = g_strdup_printf(_("(%s) %s"), c->verb,
								_(o->description));

			slc_table_add_row(table, "", option, text, NULL);
		}
	}
}

static void
print_table(SlcTable *table)
{
	g_autofree char *text = slc_table_render(table, FALSE);

	fputs(text, stdout);
}

static void
print_examples(const SlcNoun *noun)
{
	for (const SlcExample *e = noun->examples; e->command_line != NULL; e++)
		printf("  %s\n      %s\n", e->command_line, _(e->description));
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
	slc_table_add_row(table, "", "--json",
			  _("Print the API's JSON answer instead of tables"), NULL);
	slc_table_add_row(table, "", "-h, --help",
			  _("Show help; after a command group, the help of that group"), NULL);
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
		print_examples(&nouns[i]);

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
		usage = g_strdup(noun->name);
	printf("%s\n  stdiolinkctl [--url %s] [--json] %s\n\n",
	       _("Usage:"),
	       C_("placeholder", "URL"),
	       usage);
	printf("%s\n\n", _(noun->summary));

	printf("%s\n", _("Commands:"));
	add_commands(command_table, noun->name);
	print_table(command_table);

	add_options(option_table, noun->name);
	if (slc_table_get_n_rows(option_table) > 0) {
		printf("\n%s\n", _("Options:"));
		print_table(option_table);
	}

	printf("\n%s\n", _("Examples:"));
	print_examples(noun);

	printf("\n%s\n", _("Run “stdiolinkctl --help” for the global options and exit statuses."));
}

/**
 * slc_commands_print_help:
 * @noun: (nullable): a command group, or %NULL for the program's help
 * @error: return location for a #GError
 *
 * Prints help to stdout.
 *
 * Returns: %TRUE, or %FALSE with %SLC_ERROR_USAGE if @noun is unknown
 */
gboolean
slc_commands_print_help(const char *noun, GError **error)
{
	const SlcNoun *found;

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
	print_noun_help(found);
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
