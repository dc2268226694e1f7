#!/usr/bin/perl
# env.cgi: the CGI environment flashd gave this script (RFC 3875 section 4.1), one row per variable,
# sorted, every name and value HTML-escaped. It runs because it sits in /cgi-bin/ and has its exec bit.
# Try a path and a query after it: /cgi-bin/env.cgi/extra/path?x=1&y=2 (PATH_INFO, QUERY_STRING).
use strict;
use warnings;

sub esc {
    my ($text) = @_;
    $text =~ s/&/&amp;/g;
    $text =~ s/</&lt;/g;
    $text =~ s/>/&gt;/g;
    $text =~ s/"/&quot;/g;
    $text =~ s/'/&#39;/g;
    return $text;
}

my $rows = '';
for my $name (sort keys %ENV) {
    $rows .= '      <tr><td><code>' . esc($name) . '</code></td><td><code>' . esc($ENV{$name}) . "</code></td></tr>\n";
}
my $count = scalar(keys %ENV);

# The CGI header block: fields, then an empty line; the server turns it into the HTTP response head.
print "Content-Type: text/html; charset=utf-8\r\n";
print "Cache-Control: no-store\r\n";
print "\r\n";
# Root-relative links: with a PATH_INFO after the script, relative ones would point inside it.
print <<"HTML";
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CGI environment — flashd</title>
  <link rel="icon" type="image/png" href="/favicon.png">
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <header class="site-header">
    <div class="wrap">
      <a class="brand" href="/index.html"><img src="/logo.svg" alt="" width="32" height="32">flashd</a>
      <nav aria-label="Site">
        <ul>
          <li><a href="/index.html">Home</a></li>
          <li><a href="/docs/index.html">Docs</a></li>
          <li><a href="/form.html">Form</a></li>
        </ul>
      </nav>
    </div>
  </header>

  <main class="wrap doc">
    <h1>CGI environment</h1>
    <p class="lead">The $count variables this script was started with: exactly what the server passed, nothing inherited.</p>
    <p>Add a path and a query to the URL, e.g. <a href="/cgi-bin/env.cgi/extra/path?x=1&amp;y=2"><code>/cgi-bin/env.cgi/extra/path?x=1&amp;y=2</code></a>,
    and watch <code>PATH_INFO</code> and <code>QUERY_STRING</code>.</p>
    <table>
      <tr><th>Variable</th><th>Value</th></tr>
$rows    </table>
  </main>
</body>
</html>
HTML
