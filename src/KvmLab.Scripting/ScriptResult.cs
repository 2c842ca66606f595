namespace KvmLab.Scripting;

/// <summary>How a script run ended.</summary>
public enum ScriptOutcome
{
    /// <summary>Compiled and ran to the end.</summary>
    Completed,

    /// <summary>Did not compile; <see cref="ScriptResult.Diagnostics"/> holds FILE:line:col lines.</summary>
    CompileError,

    /// <summary>Threw; <see cref="ScriptResult.Exception"/> and <see cref="ScriptResult.Line"/> say where.</summary>
    RuntimeError,
}

/// <summary>The result of running one script.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Diagnostics">Compile diagnostics as "FILE:line:col: error CSxxxx: message".</param>
/// <param name="Exception">The exception a running script threw, if any.</param>
/// <param name="Line">The script line that threw (1-based), or 0 when unknown.</param>
/// <param name="ReturnValue">The script's final expression value, if any.</param>
public sealed record ScriptResult(ScriptOutcome Outcome, IReadOnlyList<string> Diagnostics, Exception? Exception, int Line, object? ReturnValue)
{
    /// <summary>Process exit code a command line should use: 0 completed, 1 compile error, 2 runtime error.</summary>
    public int ExitCode => Outcome switch { ScriptOutcome.Completed => 0, ScriptOutcome.CompileError => 1, _ => 2 };
}
