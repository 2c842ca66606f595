namespace KvmLab.Scripting;

/// <summary>What a KvmLab script sees as globals: its arguments and where it lives.</summary>
public sealed class ScriptGlobals
{
    /// <summary>Creates globals for one script run.</summary>
    public ScriptGlobals(string scriptPath, IReadOnlyList<string> args, TextWriter output)
    {
        ScriptPath = scriptPath;
        Args = args;
        Output = output;
    }

    /// <summary>Arguments given after the script's file name (<c>kvmlab script FILE.csx a b</c> gives ["a", "b"]).</summary>
    public IReadOnlyList<string> Args { get; }

    /// <summary>Full path of the running script; relative paths in a script are better built from its folder.</summary>
    public string ScriptPath { get; }

    /// <summary>Folder of the running script.</summary>
    public string ScriptDirectory => Path.GetDirectoryName(ScriptPath) ?? ".";

    /// <summary>Where the script's <c>Print</c> writes (the host's standard output).</summary>
    public TextWriter Output { get; }

    /// <summary>Writes a line to <see cref="Output"/>.</summary>
    public void Print(object? value) => Output.WriteLine(value);
}
