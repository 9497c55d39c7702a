#include "config.h"

#include <gio/gio.h>
#include <locale.h>
#include <string.h>

/*
 * stdiolinkctl under a Chinese locale speaks Chinese. The real program runs as a child
 * process (STDIOLINKCTL) and finds the catalogue compiled into the build tree through
 * STDIOLINK_LOCALEDIR (both set by tests/meson.build).
 *
 * glibc only translates when the locale is not plain "C": zh_CN.UTF-8 is used when it has
 * been generated, else C.UTF-8 (built into Debian's libc) with LANGUAGE=zh_CN. Without
 * either the tests are skipped.
 */

typedef struct {
	const char *lc_all;
	const char *language; /* NULL: unset */
} SlLocale;

typedef struct {
	int status;
	char *out;
	char *err;
} CtlResult;

static void
ctl_result_clear(CtlResult *result)
{
	g_clear_pointer(&result->out, g_free);
	g_clear_pointer(&result->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CtlResult, ctl_result_clear)

static gboolean
locale_exists(const char *name)
{
	locale_t locale = newlocale(LC_ALL_MASK, name, (locale_t)0);

	if (locale == (locale_t)0)
		return FALSE;
	freelocale(locale);
	return TRUE;
}

/* the Chinese locale this machine can offer; FALSE (and the test skipped) if none */
static gboolean
find_chinese_locale(SlLocale *locale)
{
	if (locale_exists("zh_CN.UTF-8")) {
		*locale = (SlLocale){"zh_CN.UTF-8", NULL};
		return TRUE;
	}
	if (locale_exists("C.UTF-8")) {
		*locale = (SlLocale){"C.UTF-8", "zh_CN"};
		return TRUE;
	}
	g_test_skip("no zh_CN.UTF-8 nor C.UTF-8 locale here: install the “locales” package and "
		    "run “locale-gen zh_CN.UTF-8” (as root) to run this test");
	return FALSE;
}

static void
run_ctl(CtlResult *result, const SlLocale *locale, const char *const *args)
{
	const char *program = g_getenv("STDIOLINKCTL");
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(program);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_unsetenv(launcher, "STDIOLINK_URL");
	g_subprocess_launcher_unsetenv(launcher, "STDIOLINK_TOKEN");
	g_subprocess_launcher_setenv(launcher, "NO_COLOR", "1", TRUE);
	g_subprocess_launcher_setenv(launcher, "LC_ALL", locale->lc_all, TRUE);
	if (locale->language != NULL)
		g_subprocess_launcher_setenv(launcher, "LANGUAGE", locale->language, TRUE);
	else
		g_subprocess_launcher_unsetenv(launcher, "LANGUAGE");

	g_ptr_array_add(argv, (gpointer)program);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
	g_assert_no_error(error);

	g_subprocess_communicate_utf8(proc, NULL, NULL, &result->out, &result->err, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	result->status = g_subprocess_get_exit_status(proc);
}

/* a port that refuses connections: bound, never listening, held until the test ends */
static GSocket *
refusing_socket(guint16 *port)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) local = NULL;
	GSocket *socket;

	socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	g_socket_bind(socket, address, FALSE, &error);
	g_assert_no_error(error);
	local = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	*port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
	return socket;
}

static void
test_catalogue_built_func(void)
{
	const char *dir = g_getenv("STDIOLINK_LOCALEDIR");
	g_autofree char *mo = NULL;

	g_assert_nonnull(dir);
	mo = g_build_filename(dir, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
	if (!g_file_test(mo, G_FILE_TEST_IS_REGULAR))
		g_test_fail_printf("%s is missing: is zh_CN in po/LINGUAS, and was the build "
				   "reconfigured since?", mo);
}

/* tests/check-po.sh: every message of the code has a translation in every catalogue */
static void
test_catalogue_complete_func(void)
{
	const char *root = g_getenv("STDIOLINK_SOURCE_ROOT");
	g_autofree char *script = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree char *output = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(root);
	script = g_build_filename(root, "tests", "check-po.sh", NULL);
	proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
				&error, "sh", script, root, NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &output, NULL, &error);
	g_assert_no_error(error);
	g_test_message("%s", output);
	if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0)
		g_test_fail_printf("po/ lags behind the code: run `meson compile stdiolink-pot`, "
				   "then `meson compile stdiolink-update-po`, and translate:\n%s",
				   output);
}

static void
test_help_func(void)
{
	SlLocale locale;
	g_auto(CtlResult) result = {0};

	if (!find_chinese_locale(&locale))
		return;
	g_test_message("LC_ALL=%s LANGUAGE=%s", locale.lc_all,
		       locale.language != NULL ? locale.language : "(unset)");

	run_ctl(&result, &locale, (const char *const[]){"--help", NULL});
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.err, ==, "");

	/* headings (_()), a command summary from the table (N_()), an exit status */
	g_assert_true(g_str_has_prefix(result.out, "用法：\n"));
	g_assert_nonnull(strstr(result.out, "\n命令：\n"));
	g_assert_nonnull(strstr(result.out, "\n选项：\n"));
	g_assert_nonnull(strstr(result.out, "\n退出状态：\n"));
	g_assert_nonnull(strstr(result.out, "列出已加载的服务"));
	g_assert_nonnull(strstr(result.out, "无法连接守护进程"));
	g_assert_null(strstr(result.out, "Usage:"));

	/* what the user types stays as it is */
	g_assert_nonnull(strstr(result.out, "stdiolinkctl [--url URL] [--json] COMMAND"));
	g_assert_nonnull(strstr(result.out, "projects show ID"));
}

static void
test_help_noun_func(void)
{
	SlLocale locale;
	g_auto(CtlResult) result = {0};

	if (!find_chinese_locale(&locale))
		return;

	/* an option's help (N_()) and its placeholder (NC_("placeholder")) */
	run_ctl(&result, &locale, (const char *const[]){"projects", "--help", NULL});
	g_assert_cmpint(result.status, ==, 0);
	g_assert_nonnull(strstr(result.out, "--page N"));
	g_assert_nonnull(strstr(result.out, "显示列表的第 N 页"));
	g_assert_nonnull(strstr(result.out, "创建、修改、查看、启动和停止项目"));
}

static void
test_unreachable_func(void)
{
	SlLocale locale;
	g_auto(CtlResult) result = {0};
	g_autoptr(GSocket) socket = NULL;
	g_autofree char *url = NULL;
	g_autofree char *expected = NULL;
	guint16 port;

	if (!find_chinese_locale(&locale))
		return;
	socket = refusing_socket(&port);
	url = g_strdup_printf("http://127.0.0.1:%u", port);

	run_ctl(&result, &locale, (const char *const[]){"--url", url, "status", NULL});
	g_assert_cmpint(result.status, ==, 3);
	g_assert_cmpstr(result.out, ==, "");
	expected = g_strdup_printf("stdiolinkctl: 无法连接位于 %s 的 stdiolinkd：", url);
	g_assert_true(g_str_has_prefix(result.err, expected));
	g_assert_nonnull(strstr(result.err, "\nstdiolinkctl: 守护进程是否在运行？"));
}

static void
test_usage_error_func(void)
{
	SlLocale locale;
	g_auto(CtlResult) result = {0};

	if (!find_chinese_locale(&locale))
		return;

	run_ctl(&result, &locale, (const char *const[]){"frobnicate", NULL});
	g_assert_cmpint(result.status, ==, 2);
	g_assert_cmpstr(result.err, ==,
			"stdiolinkctl: 未知命令“frobnicate”；"
			"运行“stdiolinkctl --help”查看命令列表\n");
}

/* the same program in the C locale: the language comes from the environment, not the build */
static void
test_english_func(void)
{
	const SlLocale locale = {"C.UTF-8", NULL};
	g_auto(CtlResult) result = {0};

	if (!locale_exists("C.UTF-8")) {
		g_test_skip("no C.UTF-8 locale here");
		return;
	}

	run_ctl(&result, &locale, (const char *const[]){"--help", NULL});
	g_assert_cmpint(result.status, ==, 0);
	g_assert_true(g_str_has_prefix(result.out, "Usage:\n"));
	g_assert_null(strstr(result.out, "用法"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/i18n/catalogue-built", test_catalogue_built_func);
	g_test_add_func("/i18n/catalogue-complete", test_catalogue_complete_func);
	g_test_add_func("/i18n/help", test_help_func);
	g_test_add_func("/i18n/help-noun", test_help_noun_func);
	g_test_add_func("/i18n/unreachable", test_unreachable_func);
	g_test_add_func("/i18n/usage-error", test_usage_error_func);
	g_test_add_func("/i18n/english", test_english_func);
	return g_test_run();
}
