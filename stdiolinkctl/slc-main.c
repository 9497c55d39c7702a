#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slc-commands.h"

/*
 * stdiolinkctl [--url URL] [--json] <noun> [<verb>] [args]
 *
 * The global options may appear anywhere before `--`; everything else, in order, is the
 * command line of the verb, which parses its own options.
 */

typedef struct {
	char *url;
	char *token_file;
	gboolean json;
	gboolean help;
	gboolean version;
	GPtrArray *words; /* borrowed from argv: everything that is not a global option */
	guint first_literal; /* index in words after a `--`, or G_MAXUINT */
} SlcGlobalOptions;

static void
slc_global_options_clear(SlcGlobalOptions *options)
{
	g_free(options->url);
	g_free(options->token_file);
	g_clear_pointer(&options->words, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SlcGlobalOptions, slc_global_options_clear)

static gboolean
scan_global_options(int argc, char **argv, SlcGlobalOptions *options, GError **error)
{
	gboolean literal = FALSE;

	options->words = g_ptr_array_new();
	options->first_literal = G_MAXUINT;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (literal) {
			g_ptr_array_add(options->words, argv[i]);
		} else if (g_str_equal(arg, "--")) {
			/* kept, so that the verb's own parser also stops there */
			literal = TRUE;
			g_ptr_array_add(options->words, argv[i]);
			options->first_literal = options->words->len;
		} else if (g_str_equal(arg, "--json")) {
			options->json = TRUE;
		} else if (g_str_equal(arg, "--help") || g_str_equal(arg, "-h")) {
			options->help = TRUE;
		} else if (g_str_equal(arg, "--version")) {
			options->version = TRUE;
		} else if (g_str_has_prefix(arg, "--token-file=")) {
			g_free(options->token_file);
			options->token_file = g_strdup(arg + strlen("--token-file="));
		} else if (g_str_equal(arg, "--token-file")) {
			if (i + 1 >= argc) {
				g_set_error_literal(error,
						    SLC_ERROR,
						    SLC_ERROR_USAGE,
						    _("option “--token-file” needs a value"));
				return FALSE;
			}
			g_free(options->token_file);
			options->token_file = g_strdup(argv[++i]);
		} else if (g_str_has_prefix(arg, "--url=")) {
			g_free(options->url);
			options->url = g_strdup(arg + strlen("--url="));
		} else if (g_str_equal(arg, "--url")) {
			if (i + 1 >= argc) {
				g_set_error_literal(error,
						    SLC_ERROR,
						    SLC_ERROR_USAGE,
						    _("option “--url” needs a value"));
				return FALSE;
			}
			g_free(options->url);
			options->url = g_strdup(argv[++i]);
		} else {
			g_ptr_array_add(options->words, argv[i]);
		}
	}
	return TRUE;
}

/* removes and returns the first word that is not an option; NULL if there is none */
static const char *
take_positional(SlcGlobalOptions *options)
{
	for (guint i = 0; i < options->words->len; i++) {
		const char *word = g_ptr_array_index(options->words, i);

		if (g_str_equal(word, "--") && i + 1 == options->first_literal)
			continue;
		if (i >= options->first_literal || word[0] != '-' || word[1] == '\0') {
			g_ptr_array_remove_index(options->words, i);
			if (i < options->first_literal && options->first_literal != G_MAXUINT)
				options->first_literal--;
			return word;
		}
	}
	return NULL;
}

static char *
resolve_url(const char *option, GError **error)
{
	const char *env = g_getenv("STDIOLINK_URL");
	const char *url = option;
	g_autoptr(GUri) uri = NULL;
	const char *scheme;

	if (url == NULL)
		url = env != NULL && *env != '\0' ? env : SLC_DEFAULT_URL;

	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	if (uri == NULL || g_uri_get_host(uri) == NULL || *g_uri_get_host(uri) == '\0' ||
	    (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    /* TRANSLATORS: %s is what the user gave as the daemon address */
			    _("invalid daemon address “%s”; expected e.g. http://127.0.0.1:6200"),
			    url);
		return NULL;
	}
	return g_strdup(url);
}

/* --token-file, else $STDIOLINK_TOKEN, else none */
static gboolean
resolve_token(const char *token_file, char **token, GError **error)
{
	const char *env = g_getenv("STDIOLINK_TOKEN");
	g_autofree char *text = NULL;
	g_autoptr(GError) local_error = NULL;

	*token = NULL;
	if (token_file == NULL) {
		if (env != NULL && *env != '\0')
			*token = g_strdup(env);
		return TRUE;
	}
	if (!g_file_get_contents(token_file, &text, NULL, &local_error)) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    /* TRANSLATORS: %s is why the file could not be read */
			    _("cannot read the token file: %s"),
			    local_error->message);
		return FALSE;
	}
	*token = g_strdup(g_strstrip(text));
	return TRUE;
}

static gboolean
run_command(const SlcCommand *command, SlcGlobalOptions *options, GError **error)
{
	g_auto(SlcArgs) args = {NULL};
	g_autofree char *url = NULL;
	g_autofree char *token = NULL;
	g_autoptr(StdiolinkClient) client = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	SlcContext ctx = {NULL};

	if (!slc_commands_parse_args(command, options->words, &args, error))
		return FALSE;
	url = resolve_url(options->url, error);
	if (url == NULL || !resolve_token(options->token_file, &token, error))
		return FALSE;

	/* one request at a time, each run to completion on this loop */
	client = stdiolink_client_new(url);
	stdiolink_client_set_token(client, token);
	loop = g_main_loop_new(NULL, FALSE);
	ctx.url = url;
	ctx.json = options->json;
	ctx.colour = !options->json && slc_console_want_colour(STDOUT_FILENO);
	ctx.client = client;
	ctx.loop = loop;
	return slc_commands_run(command, &ctx, &args, error);
}

static gboolean
run(int argc, char **argv, GError **error)
{
	g_auto(SlcGlobalOptions) options = {NULL};
	const SlcCommand *command;
	const char *noun;
	const char *verb = NULL;

	if (!scan_global_options(argc, argv, &options, error))
		return FALSE;
	if (options.version) {
		printf("stdiolinkctl %s\n", PACKAGE_VERSION);
		return TRUE;
	}

	noun = take_positional(&options);
	if (options.help) {
		if (noun != NULL && slc_commands_noun_has_verbs(noun))
			verb = take_positional(&options);
		return slc_commands_print_help(noun, verb, error);
	}
	if (noun == NULL) {
		slc_commands_print_usage_hint();
		g_set_error_literal(error, SLC_ERROR, SLC_ERROR_USAGE, _("no command given"));
		return FALSE;
	}

	if (slc_commands_noun_has_verbs(noun))
		verb = take_positional(&options);
	command = slc_commands_lookup(noun, verb, error);
	if (command == NULL)
		return FALSE;
	return run_command(command, &options, error);
}

/* $STDIOLINK_LOCALEDIR, else the installed catalogues; the tests point it at the build tree */
static const char *
locale_dir(void)
{
	const char *dir = g_getenv("STDIOLINK_LOCALEDIR");

	return dir != NULL && *dir != '\0' ? dir : LOCALEDIR;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, locale_dir());
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/*
	 * GLib sets up its C locale on the first ASCII number conversion. A thread that waits
	 * for another to finish that set-up may come back with errno changed, and then
	 * g_ascii_string_to_unsigned() rejects a valid number. Do it before any thread exists.
	 */
	g_ascii_strtoull("0", NULL, 10);

	if (!run(argc, argv, &error)) {
		slc_console_print_error(error->message);
		return slc_error_to_exit_status(error);
	}
	return EXIT_SUCCESS;
}
