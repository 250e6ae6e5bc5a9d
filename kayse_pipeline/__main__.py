from kayse_pipeline.cli.main import main

main()
