#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

static void
assert_defaults(const StdiolinkServerConfig *config)
{
	g_assert_cmpuint(config->port, ==, 6200);
	g_assert_cmpstr(config->host, ==, "127.0.0.1");
	g_assert_cmpstr(config->log_level, ==, "info");
	g_assert_cmpstr(config->service_program, ==, "");
	g_assert_cmpstr(config->cors_origin, ==, "");
	g_assert_cmpstr(config->webui_dir, ==, "");
	g_assert_cmpint(config->log_max_bytes, ==, 10485760);
	g_assert_cmpuint(config->log_max_files, ==, 3);
	g_assert_cmpuint(config->stop_grace_ms, ==, 5000);
	g_assert_cmpuint(config->stop_timeout_ms, ==, 0);
	g_assert_cmpuint(config->scan_timeout_ms, ==, 10000);
	g_assert_cmpuint(config->scan_parallelism, ==, 0);
	g_assert_nonnull(config->allowed_hosts);
	g_assert_cmpuint(g_strv_length(config->allowed_hosts), ==, 0);
}

static void
test_config_defaults_func(void)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
	g_autoptr(StdiolinkServerConfig) copy = NULL;
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-config-XXXXXX");
	g_autoptr(GError) error = NULL;

	assert_defaults(config);

	/* an absent file resets everything to the defaults */
	config->port = 1;
	g_free(config->host);
	config->host = g_strdup("0.0.0.0");
	g_assert_true(stdiolink_server_config_load(root, config, &error));
	g_assert_no_error(error);
	assert_defaults(config);

	copy = stdiolink_server_config_copy(config);
	assert_defaults(copy);
	g_assert_true(copy->host != config->host);
	g_assert_true(G_TYPE_IS_BOXED(STDIOLINK_TYPE_SERVER_CONFIG));
	sl_test_remove_tree(root);
}

static void
test_config_full_func(void)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
	g_autoptr(StdiolinkServerConfig) copy = NULL;
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-config-XXXXXX");
	g_autoptr(GError) error = NULL;

	sl_test_write_file(root, "config.json",
		   "{\"port\": 8080.0, \"host\": \"0.0.0.0\", \"logLevel\": \"debug\","
		   " \"serviceProgram\": \"bin/svc\", \"corsOrigin\": \"*\","
		   " \"webuiDir\": \"ui\", \"logMaxBytes\": 2097152.9, \"logMaxFiles\": 100,"
		   " \"stopGraceMs\": 0, \"stopTimeoutMs\": 250,"
		   " \"scanTimeoutMs\": 1500, \"scanParallelism\": 3,"
		   " \"allowedHosts\": [\"box.lan\", \"10.0.0.2\"]}",
		   0644);
	g_assert_true(stdiolink_server_config_load(root, config, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(config->port, ==, 8080);
	g_assert_cmpstr(config->host, ==, "0.0.0.0");
	g_assert_cmpstr(config->log_level, ==, "debug");
	g_assert_cmpstr(config->service_program, ==, "bin/svc");
	g_assert_cmpstr(config->cors_origin, ==, "*");
	g_assert_cmpstr(config->webui_dir, ==, "ui");
	g_assert_cmpint(config->log_max_bytes, ==, 2097152);
	g_assert_cmpuint(config->log_max_files, ==, 100);
	g_assert_cmpuint(config->stop_grace_ms, ==, 0);
	g_assert_cmpuint(config->stop_timeout_ms, ==, 250);
	g_assert_cmpuint(config->scan_timeout_ms, ==, 1500);
	g_assert_cmpuint(config->scan_parallelism, ==, 3);
	g_assert_cmpuint(g_strv_length(config->allowed_hosts), ==, 2);
	g_assert_cmpstr(config->allowed_hosts[0], ==, "box.lan");
	g_assert_cmpstr(config->allowed_hosts[1], ==, "10.0.0.2");

	copy = stdiolink_server_config_copy(config);
	g_assert_cmpstr(copy->allowed_hosts[1], ==, "10.0.0.2");
	g_assert_true(copy->allowed_hosts != config->allowed_hosts);
	sl_test_remove_tree(root);
}

static void
test_config_fixture_func(void)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
	g_autofree char *root = g_build_filename(g_getenv("STDIOLINK_FIXTURES"),
						 "original-data-roots",
						 "demo_server_manager_demo_data_root", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(stdiolink_server_config_load(root, config, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(config->host, ==, "0.0.0.0");
	g_assert_cmpuint(config->port, ==, 6200);
	g_assert_cmpstr(config->log_level, ==, "info");
	g_assert_cmpstr(config->cors_origin, ==, "");
}

typedef struct {
	const char *contents;
	const char *message;
} ErrorCase;

static const ErrorCase error_cases[] = {
	{"[1, 2]", "config.json must contain a JSON object"},
	{"\"text\"", "config.json must contain a JSON object"},
	{"{\"port\": 1, \"bogus\": 2}", "unknown field in config.json: bogus"},
	{"{\"zz\": 1, \"aa\": 2}", "unknown field in config.json: aa"},
	{"{\"Port\": 1}", "unknown field in config.json: Port"},
	{"{\"port\": \"80\"}", "config field 'port' must be an integer"},
	{"{\"port\": null}", "config field 'port' must be an integer"},
	{"{\"port\": 0}", "config field 'port' out of range"},
	{"{\"port\": 65536}", "config field 'port' out of range"},
	{"{\"port\": -1}", "config field 'port' out of range"},
	{"{\"port\": 80.5}", "config field 'port' out of range"},
	{"{\"port\": 1e10}", "config field 'port' out of range"},
	{"{\"host\": 1}", "config field 'host' must be a string"},
	{"{\"host\": \"\"}", "config field 'host' cannot be empty"},
	{"{\"logLevel\": true}", "config field 'logLevel' must be a string"},
	{"{\"logLevel\": \"verbose\"}", "invalid config logLevel: verbose"},
	{"{\"logLevel\": \"INFO\"}", "invalid config logLevel: INFO"},
	{"{\"serviceProgram\": 1}", "config field 'serviceProgram' must be a string"},
	{"{\"corsOrigin\": false}", "config field 'corsOrigin' must be a string"},
	{"{\"corsOrigin\": \"\"}", "config field 'corsOrigin' cannot be empty"},
	{"{\"webuiDir\": []}", "config field 'webuiDir' must be a string"},
	{"{\"logMaxBytes\": \"10\"}", "config field 'logMaxBytes' must be a number"},
	{"{\"logMaxBytes\": 1048575}", "config field 'logMaxBytes' must be >= 1048576 (1MB)"},
	{"{\"logMaxBytes\": 1048575.9}", "config field 'logMaxBytes' must be >= 1048576 (1MB)"},
	{"{\"logMaxFiles\": \"3\"}", "config field 'logMaxFiles' must be a number"},
	{"{\"logMaxFiles\": 0}", "config field 'logMaxFiles' must be between 1 and 100"},
	{"{\"logMaxFiles\": 101}", "config field 'logMaxFiles' must be between 1 and 100"},
	{"{\"logMaxFiles\": 2.5}", "config field 'logMaxFiles' must be between 1 and 100"},
	{"{\"stopGraceMs\": \"5\"}", "config field 'stopGraceMs' must be an integer"},
	{"{\"stopGraceMs\": -1}", "config field 'stopGraceMs' out of range"},
	{"{\"stopGraceMs\": 1.5}", "config field 'stopGraceMs' out of range"},
	{"{\"stopTimeoutMs\": \"5\"}", "config field 'stopTimeoutMs' must be an integer"},
	{"{\"stopTimeoutMs\": 0}", "config field 'stopTimeoutMs' out of range"},
	{"{\"stopTimeoutMs\": 2.5}", "config field 'stopTimeoutMs' out of range"},
	{"{\"startTimeoutMs\": \"5\"}", "config field 'startTimeoutMs' must be an integer"},
	{"{\"startTimeoutMs\": -1}", "config field 'startTimeoutMs' out of range"},
	{"{\"startTimeoutMs\": 1.5}", "config field 'startTimeoutMs' out of range"},
	{"{\"scanTimeoutMs\": true}", "config field 'scanTimeoutMs' must be an integer"},
	{"{\"scanTimeoutMs\": 0}", "config field 'scanTimeoutMs' out of range"},
	{"{\"scanParallelism\": -1}", "config field 'scanParallelism' out of range"},
	{"{\"scanParallelism\": 1025}", "config field 'scanParallelism' out of range"},
	{"{\"allowedHosts\": \"a\"}", "config field 'allowedHosts' must be an array of strings"},
	{"{\"allowedHosts\": [\"a\", 1]}",
	 "config field 'allowedHosts' must be an array of strings"},
	{"{\"allowedHosts\": [\"\"]}",
	 "config field 'allowedHosts' cannot contain an empty string"},
	/* the first failing field in checking order wins, unknown keys before all */
	{"{\"host\": \"\", \"port\": 0}", "config field 'port' out of range"},
	{"{\"port\": 0, \"x\": 1}", "unknown field in config.json: x"},
};

static void
assert_load_fails(const char *root, const char *message, gboolean prefix_only)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
	g_autoptr(GError) error = NULL;

	config->port = 4242;
	g_assert_false(stdiolink_server_config_load(root, config, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	if (prefix_only)
		g_assert_true(g_str_has_prefix(error->message, message));
	else
		g_assert_cmpstr(error->message, ==, message);

	/* a failed load leaves the caller's configuration alone */
	g_assert_cmpuint(config->port, ==, 4242);
}

static void
test_config_errors_func(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(error_cases); i++) {
		g_autofree char *root = sl_test_make_tmp_dir("stdiolink-config-XXXXXX");

		g_test_message("case %u: %s", i, error_cases[i].contents);
		sl_test_write_file(root, "config.json", error_cases[i].contents, 0644);
		assert_load_fails(root, error_cases[i].message, FALSE);
		sl_test_remove_tree(root);
	}
}

static void
test_config_parse_error_func(void)
{
	const char *broken[] = {"{", "{\"port\": }", "", "\xff"};

	for (guint i = 0; i < G_N_ELEMENTS(broken); i++) {
		g_autofree char *root = sl_test_make_tmp_dir("stdiolink-config-XXXXXX");

		sl_test_write_file(root, "config.json", broken[i], 0644);
		assert_load_fails(root, "config.json parse error: ", TRUE);
		sl_test_remove_tree(root);
	}
}

static void
test_config_cannot_open_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-config-XXXXXX");
	g_autofree char *path = g_build_filename(root, "config.json", NULL);
	g_autofree char *message = g_strdup_printf("cannot open config file: %s", path);

	/* a folder in place of the file exists but cannot be read */
	g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
	assert_load_fails(root, message, FALSE);
	sl_test_remove_tree(root);
}

static void
test_config_integral_port_func(void)
{
	const struct {
		const char *contents;
		guint port;
	} cases[] = {
		{"{\"port\": 80.0}", 80},
		{"{\"port\": 1}", 1},
		{"{\"port\": 65535}", 65535},
		{"{\"port\": 6.5e3}", 6500},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
		g_autofree char *root = sl_test_make_tmp_dir("stdiolink-config-XXXXXX");
		g_autoptr(GError) error = NULL;

		sl_test_write_file(root, "config.json", cases[i].contents, 0644);
		g_assert_true(stdiolink_server_config_load(root, config, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(config->port, ==, cases[i].port);
		sl_test_remove_tree(root);
	}
}

static char *
find_program(const char *service_program, const char *data_root, const char *self_exe_dir)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();

	g_free(config->service_program);
	config->service_program = g_strdup(service_program);
	return stdiolink_server_config_find_service_program(config, data_root, self_exe_dir);
}

static void
test_config_service_program_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-config-XXXXXX");
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autofree char *bin = g_build_filename(tmp, "bin", NULL);
	g_autofree char *path_dir = g_build_filename(tmp, "path", NULL);
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *old_path = g_strdup(g_getenv("PATH"));
	g_autofree char *abs_prog = g_build_filename(tmp, "prog", NULL);
	g_autofree char *expected = NULL;
	g_autofree char *found = NULL;

	g_assert_cmpint(g_mkdir(root, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(bin, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(path_dir, 0755), ==, 0);
	sl_test_write_file(tmp, "prog", "#!/bin/sh\n", 0755);
	sl_test_write_file(tmp, "plain", "data\n", 0644);
	sl_test_write_file(root, "rootprog", "#!/bin/sh\n", 0755);
	g_setenv("PATH", path_dir, TRUE);

	/* a configured absolute program */
	found = find_program(abs_prog, root, bin);
	g_assert_cmpstr(found, ==, abs_prog);
	g_clear_pointer(&found, g_free);

	/* relative: first against the working directory, made absolute */
	g_assert_cmpint(g_chdir(tmp), ==, 0);
	found = find_program("./sub/../prog", root, bin);
	g_assert_cmpstr(found, ==, abs_prog);
	g_clear_pointer(&found, g_free);

	/* then against the data root, returned as the plain concatenation */
	found = find_program("./rootprog", root, bin);
	expected = g_strconcat(root, "/./rootprog", NULL);
	g_assert_cmpstr(found, ==, expected);
	g_clear_pointer(&found, g_free);

	/* configured but not executable: no fallback at all */
	sl_test_write_file(bin, "stdiolink_service", "#!/bin/sh\n", 0755);
	found = find_program("plain", root, bin);
	g_assert_null(found);
	found = find_program("/nonexistent/prog", root, bin);
	g_assert_null(found);
	g_assert_cmpint(g_chdir(cwd), ==, 0);

	/* not configured: beside the daemon first */
	found = find_program("", root, bin);
	g_free(expected);
	expected = g_build_filename(bin, "stdiolink_service", NULL);
	g_assert_cmpstr(found, ==, expected);
	g_clear_pointer(&found, g_free);

	/* then PATH */
	found = find_program("", root, NULL);
	g_assert_null(found);
	sl_test_write_file(path_dir, "stdiolink_service", "#!/bin/sh\n", 0755);
	found = find_program("", root, NULL);
	g_free(expected);
	expected = g_build_filename(path_dir, "stdiolink_service", NULL);
	g_assert_cmpstr(found, ==, expected);

	g_setenv("PATH", old_path, TRUE);
	sl_test_remove_tree(tmp);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/server-config/defaults", test_config_defaults_func);
	g_test_add_func("/server-config/full", test_config_full_func);
	g_test_add_func("/server-config/fixture", test_config_fixture_func);
	g_test_add_func("/server-config/errors", test_config_errors_func);
	g_test_add_func("/server-config/parse-error", test_config_parse_error_func);
	g_test_add_func("/server-config/cannot-open", test_config_cannot_open_func);
	g_test_add_func("/server-config/integral-port", test_config_integral_port_func);
	g_test_add_func("/server-config/service-program", test_config_service_program_func);

	return g_test_run();
}
