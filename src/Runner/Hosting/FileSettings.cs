using System.Globalization;
using DbFirst.Files;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Runner.Hosting;

/// <summary>Reads <see cref="FileReadOptions"/> from configuration section <c>Files</c> (e.g. <c>Files__MaxBytes</c>).</summary>
internal static class FileSettings
{
    public static FileReadOptions Read(IConfiguration configuration)
    {
        var section = configuration.GetSection("Files");
        var defaults = new FileReadOptions();
        return new FileReadOptions
        {
            MaxBytes = section["MaxBytes"] is not { Length: > 0 } bytes ? defaults.MaxBytes
                : long.TryParse(bytes, NumberStyles.Integer, CultureInfo.InvariantCulture, out var max) ? max
                : throw new GalleryException($"Files:MaxBytes must be a whole number of bytes, not '{bytes}'"),
            ReadTimeout = section["ReadTimeout"] is not { Length: > 0 } timeout ? defaults.ReadTimeout
                : TimeSpan.TryParse(timeout, CultureInfo.InvariantCulture, out var span) ? span
                : throw new GalleryException($"Files:ReadTimeout must be a time span such as 00:01:00, not '{timeout}'"),
            VerifyHash = section["VerifyHash"] is not { Length: > 0 } verify ? defaults.VerifyHash
                : bool.TryParse(verify, out var check) ? check
                : throw new GalleryException($"Files:VerifyHash must be true or false, not '{verify}'"),
        }.Validate();
    }
}
