#!/usr/bin/perl
# echo.cgi: shows what a request sent: the fields of its query string, and its body, as decoded fields
# for a urlencoded form (form.html posts one) or else as raw text. Everything printed is HTML-escaped.
# Reads at most 1 MB of body: by CONTENT_LENGTH when there is one, else to the end of stdin.
use strict;
use warnings;

my $max_body = 1 << 20;

sub esc {
    my ($text) = @_;
    $text =~ s/&/&amp;/g;
    $text =~ s/</&lt;/g;
    $text =~ s/>/&gt;/g;
    $text =~ s/"/&quot;/g;
    $text =~ s/'/&#39;/g;
    return $text;
}

# application/x-www-form-urlencoded: name=value pairs joined by '&', '+' for a space, %XX for a byte.
sub decode {
    my ($text) = @_;
    $text =~ tr/+/ /;
    $text =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
    return $text;
}

sub fields_table {
    my ($encoded) = @_;
    my $rows = '';
    for my $pair (split /&/, $encoded) {
        next if $pair eq '';
        my ($name, $value) = split /=/, $pair, 2;
        $rows .= '      <tr><td><code>' . esc(decode($name)) . '</code></td><td style="white-space: pre-wrap">'
            . esc(decode($value // '')) . "</td></tr>\n";
    }
    return '<p>None.</p>' if $rows eq '';
    return "<table>\n      <tr><th>Name</th><th>Value</th></tr>\n$rows    </table>";
}

my $method = $ENV{REQUEST_METHOD} // 'GET';
my $type = $ENV{CONTENT_TYPE} // '';
my $length = $ENV{CONTENT_LENGTH};
$length = undef if defined $length && $length !~ /^[0-9]+$/;

my $body = '';
binmode STDIN;
my $limit = defined $length && $length < $max_body ? $length : $max_body;
while (length($body) < $limit) {
    my $read = read(STDIN, $body, $limit - length($body), length($body));
    last if !$read;
}
my $cut = defined $length ? $length > length($body) : length($body) >= $max_body;

my $shown;
if ($body eq '') {
    $shown = '<p>No body. <a href="/form.html">Post the form</a> to see one.</p>';
} elsif ($type =~ m{^application/x-www-form-urlencoded}i) {
    $shown = fields_table($body);
} else {
    $shown = '<pre><code>' . esc($body) . '</code></pre>';
}
$shown .= "\n    <p class=\"note\">Only the first $max_body bytes are shown.</p>" if $cut;

my $summary = esc($method) . ', ' . length($body) . ' bytes of body'
    . ($type ne '' ? ' of type <code>' . esc($type) . '</code>' : '');
my $query = fields_table($ENV{QUERY_STRING} // '');

print "Content-Type: text/html; charset=utf-8\r\n";
print "Cache-Control: no-store\r\n";
print "\r\n";
print <<"HTML";
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>What the form sent — flashd</title>
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
          <li><a href="/form.html">Form</a></li>
          <li><a href="/cgi-bin/env.cgi">Environment</a></li>
        </ul>
      </nav>
    </div>
  </header>

  <main class="wrap doc">
    <h1>What the form sent</h1>
    <p class="lead">$summary.</p>
    <h2>Body</h2>
    $shown
    <h2>Query string</h2>
    $query
    <p><a class="button ghost" href="/form.html">Back to the form</a></p>
  </main>
</body>
</html>
HTML
