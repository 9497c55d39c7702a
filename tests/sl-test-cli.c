#include "config.h"

#include <sys/wait.h>

#include "sl-test-cli.h"

/**
 * sl_cli_result_clear:
 * @r: a result
 *
 * Frees the captured output and leaves @r ready for another run.
 */
void
sl_cli_result_clear(SlCliResult *r)
{
	g_clear_pointer(&r->out, g_free);
	g_clear_pointer(&r->err, g_free);
}

/**
 * sl_cli_argv:
 * @fx: a fixture whose daemon the CLI talks to
 * @args: the NULL-terminated arguments after `--url`
 *
 * Returns: (transfer container): `stdiolinkctl --url <daemon> @args...`, NULL-terminated; the
 * strings belong to the caller, the fixture and the environment
 */
GPtrArray *
sl_cli_argv(SlDaemonFixture *fx, const char *const *args)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, (gpointer)g_getenv("STDIOLINKCTL"));
	g_ptr_array_add(argv, "--url");
	g_ptr_array_add(argv, fx->base_url);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* this process's environment with @env applied; NULL (inherit it as it is) without @env */
static char **
child_environ(const char *const *env)
{
	char **envp;

	if (env == NULL)
		return NULL;

	envp = g_get_environ();
	for (guint i = 0; env[i] != NULL; i++) {
		g_auto(GStrv) pair = g_strsplit(env[i], "=", 2);

		if (pair[1] != NULL)
			envp = g_environ_setenv(envp, pair[0], pair[1], TRUE);
		else
			envp = g_environ_unsetenv(envp, pair[0]);
	}
	return envp;
}

/* a blocking run is fine here: the daemon is another process */
static int
run_va(SlDaemonFixture *fx, SlCliResult *r, const char *const *env, va_list ap)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GPtrArray) argv = NULL;
	g_auto(GStrv) envp = child_environ(env);
	g_autoptr(GError) error = NULL;
	int wait_status = 0;

	for (const char *arg = va_arg(ap, const char *); arg != NULL;
	     arg = va_arg(ap, const char *))
		g_ptr_array_add(args, (gpointer)arg);
	g_ptr_array_add(args, NULL);
	argv = sl_cli_argv(fx, (const char *const *)args->pdata);

	sl_cli_result_clear(r);
	g_spawn_sync(NULL, (char **)argv->pdata, envp, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
		     &r->out, &r->err, &wait_status, &error);
	g_assert_no_error(error);
	g_assert_true(WIFEXITED(wait_status));
	r->status = WEXITSTATUS(wait_status);
	return r->status;
}

/**
 * sl_cli_run:
 * @fx: a fixture whose daemon the CLI talks to
 * @r: where the output goes; what it held before is freed
 * @...: the arguments after `--url`, then NULL
 *
 * Runs `stdiolinkctl --url <daemon> ...` with stdin from /dev/null, stdout and stderr
 * captured, and waits for it to exit.
 *
 * Returns: its exit status, as in @r
 */
int
sl_cli_run(SlDaemonFixture *fx, SlCliResult *r, ...)
{
	va_list ap;
	int status;

	va_start(ap, r);
	status = run_va(fx, r, NULL, ap);
	va_end(ap);
	return status;
}

/**
 * sl_cli_run_env:
 * @fx: a fixture whose daemon the CLI talks to
 * @r: where the output goes; what it held before is freed
 * @env: NULL-terminated changes to this process's environment for the CLI: "NAME=VALUE"
 *	sets NAME, "NAME" unsets it
 * @...: the arguments after `--url`, then NULL
 *
 * sl_cli_run() with another environment.
 *
 * Returns: its exit status, as in @r
 */
int
sl_cli_run_env(SlDaemonFixture *fx, SlCliResult *r, const char *const *env, ...)
{
	va_list ap;
	int status;

	va_start(ap, env);
	status = run_va(fx, r, env, ap);
	va_end(ap);
	return status;
}

/**
 * sl_cli_parse_json:
 * @r: the result of a `--json` run
 *
 * Asserts that the CLI printed one JSON object.
 *
 * Returns: (transfer full): that object's node
 */
JsonNode *
sl_cli_parse_json(const SlCliResult *r)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = stdiolink_json_parse(r->out, -1, &error);

	g_assert_no_error(error);
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return node;
}
