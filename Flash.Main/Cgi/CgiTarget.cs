namespace Flash.Main.Cgi;

/// <summary>A URL that runs a CGI script: what RFC 3875 §4.1 needs to know about the script itself.</summary>
internal sealed record CgiTarget(
    string ScriptFile,
    string WorkingDirectory,
    string Interpreter,
    string ScriptName,
    string PathInfo,
    bool NonParsedHeaders);
