namespace KvmLab.Cli.Commands;

/// <summary>One <c>kvmlab</c> sub-command. Each lives in its own file under Commands/ and is listed in <see cref="CommandTable.All"/>.</summary>
internal interface ICommand
{
    /// <summary>The word after <c>kvmlab</c>.</summary>
    string Name { get; }

    /// <summary>One line for <c>kvmlab --help</c>.</summary>
    string Summary { get; }

    /// <summary>The full <c>--help</c> text: usage line, options, examples.</summary>
    string Help { get; }

    /// <summary>Runs the command; returns the process exit code. Throws <see cref="UsageException"/> for command-line mistakes.</summary>
    int Run(IReadOnlyList<string> args);
}
