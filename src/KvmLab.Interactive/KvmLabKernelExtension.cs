using Microsoft.DotNet.Interactive;

namespace KvmLab.Interactive;

/// <summary>
/// The kernel extension the stock kernel runs when a notebook references the KvmLab.Interactive NuGet package
/// (it looks in the package's interactive-extensions/dotnet folder). It only registers; formatting lives in the
/// formatter classes.
/// </summary>
public sealed class KvmLabKernelExtension : IKernelExtension
{
    /// <inheritdoc />
    public Task OnLoadAsync(Kernel kernel)
    {
        KvmLabFormatters.Register();
        return Task.CompletedTask;
    }
}
