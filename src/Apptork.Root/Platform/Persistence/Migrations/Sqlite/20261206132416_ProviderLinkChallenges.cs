using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Apptork.Root.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ProviderLinkChallenges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "pending_display_name",
                table: "otp_challenges",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "pending_email",
                table: "otp_challenges",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "pending_provider",
                table: "otp_challenges",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "pending_subject",
                table: "otp_challenges",
                type: "TEXT",
                maxLength: 255,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "pending_display_name",
                table: "otp_challenges");

            migrationBuilder.DropColumn(
                name: "pending_email",
                table: "otp_challenges");

            migrationBuilder.DropColumn(
                name: "pending_provider",
                table: "otp_challenges");

            migrationBuilder.DropColumn(
                name: "pending_subject",
                table: "otp_challenges");
        }
    }
}
