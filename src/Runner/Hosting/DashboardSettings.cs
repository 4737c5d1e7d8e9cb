using DbFirst.Configuration;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Who may see the dashboard, and the public names of a reverse proxy in front of <c>serve</c>:
/// <c>Dashboard:Username</c>, <c>Dashboard:Password</c> (both or neither) and <c>Dashboard:AllowedHosts</c>.
/// </summary>
/// <remarks><see cref="ToString"/> never prints the password.</remarks>
internal sealed record DashboardSettings(string? Username, string? Password, string? AllowedHosts)
{
    public static DashboardSettings Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new DashboardSettings(settings.Text("Dashboard:Username"), settings.Text("Dashboard:Password"), settings.Text("Dashboard:AllowedHosts"));
    }

    /// <summary>The dashboard's access rule.</summary>
    /// <exception cref="GalleryException">Only one of username and password is set.</exception>
    public DashboardAccessFilter Access() => new(Username, Password);

    public override string ToString() =>
        $"Dashboard {{ Username = {Username ?? "none"}, Password = {(Password is null ? "none" : "set")}, AllowedHosts = {AllowedHosts ?? "none"} }}";
}
