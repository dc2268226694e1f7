using Flash.Cgi.Tests.Support;

namespace Flash.Cgi.Tests;

/// <summary>Real CGI programs: a Perl script run by its #! line, and a PHP page run by php-cgi.</summary>
public sealed class InterpreterTests
{
    private const string PhpCgi = "/usr/bin/php-cgi";

    [Test]
    public void A_perl_script_runs_by_its_shebang_line()
    {
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string script = main.WriteScript("hello.pl", """
                #!/usr/bin/perl
                use strict;
                read(STDIN, my $body, $ENV{CONTENT_LENGTH});
                print "Content-Type: text/plain\r\n\r\n";
                print "perl $ENV{REQUEST_METHOD} $ENV{QUERY_STRING} [$body]\n";
                """);

            var result = runner.Run(main.Job(script, ["REQUEST_METHOD=POST", "QUERY_STRING=x=1", "CONTENT_LENGTH=5"]), "hello"u8.ToArray());

            Assert.That(result.Text, Is.EqualTo("Content-Type: text/plain\r\n\r\nperl POST x=1 [hello]\n"), result.End.Stderr);
        }
    }

    [Test]
    public void A_php_page_runs_through_php_cgi_with_a_query()
    {
        Assume.That(File.Exists(PhpCgi), Is.True, "php-cgi is installed by scripts/install-deps.sh");
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            // No exec bit: the interpreter mapping runs it.
            string page = main.WriteScript("hello.php", "<?php header('X-Test: yes'); echo 'php says ', htmlspecialchars($_GET['name']), \"\\n\";\n", executable: false);

            var result = runner.Run(main.Job(page, PhpEnvironment(page, "GET", "name=<b>flash</b>"), interpreter: PhpCgi));

            Assert.That(result.End.ExitCode, Is.EqualTo(0), result.End.Stderr);
            Assert.That(result.Text, Does.Contain("X-Test: yes\r\n"));
            Assert.That(result.Text, Does.EndWith("\r\n\r\nphp says &lt;b&gt;flash&lt;/b&gt;\n"));
        }
    }

    [Test]
    public void A_php_page_reads_a_posted_form()
    {
        Assume.That(File.Exists(PhpCgi), Is.True, "php-cgi is installed by scripts/install-deps.sh");
        var (main, runner) = FakeMain.StartConnected();
        using (main)
        {
            string page = main.WriteScript("form.php", "<?php echo $_POST['a'] + $_POST['b'], \"\\n\";\n", executable: false);
            byte[] body = "a=40&b=2"u8.ToArray();
            string[] environment =
            [
                .. PhpEnvironment(page, "POST", ""),
                "CONTENT_TYPE=application/x-www-form-urlencoded",
                "CONTENT_LENGTH=" + body.Length,
            ];

            var result = runner.Run(main.Job(page, environment, interpreter: PhpCgi), body);

            Assert.That(result.Text, Does.EndWith("\r\n\r\n42\n"), result.End.Stderr);
        }
    }

    /// <summary>What php-cgi needs: REDIRECT_STATUS (its force-cgi-redirect check) and SCRIPT_FILENAME.</summary>
    private static string[] PhpEnvironment(string page, string method, string query) =>
    [
        "GATEWAY_INTERFACE=CGI/1.1",
        "SERVER_PROTOCOL=HTTP/1.1",
        "REQUEST_METHOD=" + method,
        "QUERY_STRING=" + query,
        "SCRIPT_NAME=/" + Path.GetFileName(page),
        "SCRIPT_FILENAME=" + page,
        "REDIRECT_STATUS=200",
    ];
}
