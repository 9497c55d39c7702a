#include "config.h"

#include <string.h>

#include "sl-daemon-fixture.h"
#include "sl-test-cli.h"

/*
 * stdiolinkctl against a real stdiolinkd: the commands a user runs in the README tour, with
 * their exit codes, and --json printing exactly what the API answers.
 */

static const char *test_schema =
    "{\"sleepMs\":{\"type\":\"int\",\"default\":0},"
    "\"stdout\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"port\":{\"type\":\"int\",\"default\":8080,\"constraints\":{\"max\":65535}}}";

static void
setup(SlDaemonFixture *fx)
{
	sl_daemon_fixture_init(fx);
	sl_daemon_fixture_add_test_service(fx, "svc", test_schema);
	sl_daemon_fixture_add_project(fx, "worker", "svc", NULL,
				      "{\"sleepMs\":60000,\"stdout\":[\"working\"]}");
	sl_daemon_fixture_add_project(fx, "broken", "svc", NULL, "{\"port\":70000}");
	sl_daemon_fixture_start(fx);
}

static gboolean
worker_running_cb(SlDaemonFixture *fx, gpointer data)
{
	SlCliResult r = {0};
	gboolean running;

	sl_cli_run(fx, &r, "instances", "list", NULL);
	running = r.status == 0 && strstr(r.out, "worker") != NULL &&
		  strstr(r.out, "running") != NULL;
	sl_cli_result_clear(&r);
	return running;
}

static gboolean
log_grows_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/worker.log");
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, "working") != NULL;
}

/* the README's "done when": start a project, see it running, see its log grow */
static void
test_tour_func(void)
{
	SlDaemonFixture fx;
	SlCliResult r = {0};

	setup(&fx);

	sl_cli_run(&fx, &r, "status", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, PACKAGE_VERSION));
	sl_cli_result_clear(&r);

	sl_cli_run(&fx, &r, "projects", "list", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "worker"));
	g_assert_nonnull(strstr(r.out, "invalid"));
	sl_cli_result_clear(&r);

	sl_cli_run(&fx, &r, "projects", "show", "broken", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "port: value 70000 > max 65535"));
	sl_cli_result_clear(&r);

	sl_cli_run(&fx, &r, "projects", "start", "worker", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "inst_"));
	sl_cli_result_clear(&r);

	g_assert_true(sl_daemon_fixture_wait(&fx, worker_running_cb, NULL));
	g_assert_true(sl_daemon_fixture_wait(&fx, log_grows_cb, NULL));

	/* the server says no: exit 1, the reason on stderr */
	sl_cli_run(&fx, &r, "projects", "start", "worker", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "already running"));
	sl_cli_result_clear(&r);

	sl_cli_run(&fx, &r, "projects", "start", "broken", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "project invalid"));
	sl_cli_result_clear(&r);

	sl_cli_run(&fx, &r, "projects", "stop", "worker", NULL);
	g_assert_cmpint(r.status, ==, 0);
	sl_cli_result_clear(&r);

	sl_daemon_fixture_clear(&fx);
}

/* --json prints the API's body and nothing else */
static void
test_json_verbatim_func(void)
{
	const char *cases[][3] = {
	    {"services", "list", "/api/services"},
	    {"projects", "show", "/api/projects/broken"},
	    {"drivers", "list", "/api/drivers"},
	};
	SlDaemonFixture fx;

	setup(&fx);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		SlCliResult r = {0};
		guint status = 0;
		g_autoptr(JsonNode) api = NULL;
		g_autoptr(JsonNode) cli = NULL;
		g_autofree char *api_text = NULL;
		g_autofree char *cli_text = NULL;
		const char *id = g_str_equal(cases[i][1], "show") ? "broken" : NULL;

		sl_cli_run(&fx, &r, "--json", cases[i][0], cases[i][1], id, NULL);
		g_assert_cmpint(r.status, ==, 0);
		cli = stdiolink_json_parse(r.out, -1, NULL);
		g_assert_nonnull(cli);
		api = sl_daemon_fixture_request(&fx, "GET", cases[i][2], NULL, &status);
		api_text = stdiolink_json_to_string(api, STDIOLINK_JSON_COMPACT);
		cli_text = stdiolink_json_to_string(cli, STDIOLINK_JSON_COMPACT);
		g_assert_cmpstr(cli_text, ==, api_text);
		sl_cli_result_clear(&r);
	}
	sl_daemon_fixture_clear(&fx);
}

/* a daemon that went away: exit 3, nothing on stdout */
static void
test_unreachable_func(void)
{
	SlDaemonFixture fx;
	SlCliResult r = {0};

	setup(&fx);
	sl_daemon_fixture_stop(&fx);
	sl_cli_run(&fx, &r, "--json", "status", NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_cmpstr(r.out, ==, "");
	g_assert_cmpstr(r.err, !=, "");
	sl_cli_result_clear(&r);
	sl_daemon_fixture_clear(&fx);
}

/* a daemon with a token: refused without one, served with --token-file or $STDIOLINK_TOKEN */
static void
test_token_func(void)
{
	SlDaemonFixture fx;
	SlCliResult r = {0};
	g_autofree char *token_file = NULL;
	const char *const with_env[] = {"STDIOLINK_TOKEN=k3y", NULL};
	const char *const without_env[] = {"STDIOLINK_TOKEN", NULL};

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "token.txt", "k3y\n");
	sl_daemon_fixture_write(&fx, "config.json", "{\"tokenFile\":\"token.txt\"}");
	sl_daemon_fixture_start(&fx);
	token_file = sl_daemon_fixture_path(&fx, "token.txt");

	sl_cli_run_env(&fx, &r, without_env, "status", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "an API token is required"));
	sl_cli_result_clear(&r);

	sl_cli_run_env(&fx, &r, without_env, "--token-file", token_file, "status", NULL);
	g_assert_cmpint(r.status, ==, 0);
	sl_cli_result_clear(&r);

	sl_cli_run_env(&fx, &r, with_env, "projects", "list", NULL);
	g_assert_cmpint(r.status, ==, 0);
	sl_cli_result_clear(&r);
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/cli-daemon/tour", test_tour_func);
	g_test_add_func("/cli-daemon/json-verbatim", test_json_verbatim_func);
	g_test_add_func("/cli-daemon/unreachable", test_unreachable_func);
	g_test_add_func("/cli-daemon/token", test_token_func);
	return g_test_run();
}
